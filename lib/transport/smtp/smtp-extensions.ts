/** What the server's EHLO reply offers that the transaction layer uses. */
export interface SmtpExtensions {
  /** RFC 2920: commands may be sent without waiting for each reply. */
  pipelining: boolean;
  /** RFC 3030: BDAT, the message as counted bytes (no dot-stuffing, no end marker). */
  chunking: boolean;
  /** RFC 3030: `BODY=BINARYMIME`, only with BDAT. */
  binaryMime: boolean;
  /** RFC 6152: `BODY=8BITMIME`. */
  eightBitMime: boolean;
  /** RFC 6531: internationalized addresses. */
  smtpUtf8: boolean;
  /** RFC 1870: the largest message the server takes, in bytes; undefined when not announced or 0. */
  maxSize: number | undefined;
}

/** Reads the keywords of an EHLO reply (`250-PIPELINING` ... `250 SMTPUTF8`, lines joined by LF). */
export function parseEhloExtensions(reply: string | false | undefined): SmtpExtensions {
  const keywords = new Map<string, string>();
  const lines = (reply || '').split(/\r?\n/).slice(1);
  for (const line of lines) {
    const [keyword = '', ...params] = line
      .replace(/^\d{3}[ -]?/, '')
      .trim()
      .split(/\s+/);
    if (keyword) keywords.set(keyword.toUpperCase(), params.join(' '));
  }
  const size = Number(keywords.get('SIZE'));
  return {
    pipelining: keywords.has('PIPELINING'),
    chunking: keywords.has('CHUNKING'),
    binaryMime: keywords.has('BINARYMIME'),
    eightBitMime: keywords.has('8BITMIME'),
    smtpUtf8: keywords.has('SMTPUTF8'),
    maxSize: Number.isFinite(size) && size > 0 ? size : undefined,
  };
}
