/**
 * A composed message as the SMTP transaction layer writes it. Line ends become CRLF (MailComposer
 * keeps a text body's bare LFs; nodemailer's DATA stream turned them into CRLF, and Exchange
 * refuses bare LFs with 5.6.11), for BDAT as for DATA, so a message is stored the same whichever
 * way it went. For DATA (RFC 5321 §4.5.2) a line that starts with a dot also gets a second one, and
 * `.` CRLF ends the body. Most messages need no change: their bytes are written as they are.
 * The result is a list of pieces to write in order, so nothing is copied.
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const DOT_BYTE = Buffer.from('.');
const CR_BYTE = Buffer.from('\r');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/** The message with CRLF line ends, for BDAT. */
export function crlfBody(raw: Buffer): Buffer[] {
  return rewrite(raw, false);
}

/** The message dot-stuffed with CRLF line ends, and the `.` CRLF that ends it, for DATA. */
export function dotStuffedBody(raw: Buffer): Buffer[] {
  const pieces = rewrite(raw, true);
  const last = pieces.at(-1);
  if (last && last.at(-1) !== LF) pieces.push(CRLF);
  pieces.push(TERMINATOR);
  return pieces;
}

/** Total bytes of `pieces` (what BDAT announces). */
export function byteLength(pieces: readonly Buffer[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  return total;
}

function rewrite(raw: Buffer, stuffDots: boolean): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  if (stuffDots && raw[0] === DOT) pieces.push(DOT_BYTE);
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    const bare = at === 0 || raw[at - 1] !== CR;
    const dotNext = stuffDots && raw[at + 1] === DOT;
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
  return pieces.filter((piece) => piece.length > 0);
}
