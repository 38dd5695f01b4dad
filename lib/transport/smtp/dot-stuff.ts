/**
 * A message body as DATA carries it (RFC 5321 §4.5.2): every line that starts with a dot gets a
 * second one, every line ends in CRLF (a bare LF counts as a line end and gets its CR: Exchange
 * refuses bare LFs with 5.6.11), and `.` CRLF ends it. nodemailer does the same in a stream
 * (data-stream.js); the SMTP transaction layer here holds the whole message in memory, and most
 * messages need no change at all, so their bytes go out as they are, with the terminator after.
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const DOT_BYTE = Buffer.from('.');
const CR_BYTE = Buffer.from('\r');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/** The pieces to write, in order: the body (stuffed where needed) and the terminator. */
export function dotStuff(raw: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  if (raw[0] === DOT) pieces.push(DOT_BYTE);
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    const bare = at === 0 || raw[at - 1] !== CR;
    const dotNext = raw[at + 1] === DOT;
    if (!bare && !dotNext) continue;
    if (bare) {
      pieces.push(raw.subarray(from, at), CR_BYTE);
      from = at;
    }
    if (dotNext) {
      pieces.push(raw.subarray(from, at + 1), DOT_BYTE);
      from = at + 1;
    }
  }
  pieces.push(raw.subarray(from));
  const endsWithLineBreak = raw.length === 0 || raw.at(-1) === LF;
  if (!endsWithLineBreak) pieces.push(CRLF);
  pieces.push(TERMINATOR);
  return pieces.filter((piece) => piece.length > 0);
}
