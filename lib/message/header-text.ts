/**
 * What text may reach a header field (subject, display names, X- header values, file names):
 * the character-class bodies and patterns the schema and the address rules share, written as
 * strings so they also become JSON Schema `pattern`s.
 *
 * - C0 controls and DEL: header injection (CR, LF) and invisible text.
 * - C1 controls (U+0080-U+009F, among them U+0085 NEL) and U+2028 / U+2029: line breaks to some
 *   decoders and log readers, never meant in a header.
 * - RFC 2047 encoded-word syntax (`=?charset?B?...?=`): the sender would pass it through as it is,
 *   and the recipient's client would decode it into other text (`../../etc/passwd`, CR LF and a
 *   header). Real text needs no such syntax: the sender encodes non-ASCII text itself.
 */

/** C0 controls, DEL, C1 controls, U+2028 and U+2029, as a character-class body. */
export const HEADER_CONTROLS = '\\x00-\\x1F\\x7F-\\x9F\\u2028\\u2029';
/** The same with tab allowed (tab is folding white space in a header). */
export const HEADER_CONTROLS_BUT_TAB = '\\x00-\\x08\\x0A-\\x1F\\x7F-\\x9F\\u2028\\u2029';
/** An encoded-word as lenient decoders find it (case-insensitive B or Q, anything between). */
export const ENCODED_WORD = '=\\?[^?]*\\?[BbQq]\\?[^?]*\\?=';
/** A lookahead that fails on any encoded-word in the rest of the value. */
export const NO_ENCODED_WORD = `(?![\\s\\S]*${ENCODED_WORD})`;

export const ENCODED_WORD_PATTERN = new RegExp(ENCODED_WORD);
/** Text without encoded-words. */
export const NO_ENCODED_WORD_PATTERN = new RegExp(`^${NO_ENCODED_WORD}`);

/** The fix, for any field that holds an encoded-word. */
export const ENCODED_WORD_FIX =
  'must not contain RFC 2047 encoded-word syntax ("=?charset?B?...?="): mail clients would decode it into other text; write the text itself (non-ASCII is fine, the sender encodes it)';
/** The fix, for any field that holds a line break or control character. */
export const HEADER_CONTROLS_FIX =
  'must be one line: remove line breaks (CR, LF, U+2028, U+2029, U+0085) and control characters';
