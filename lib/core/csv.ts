/**
 * CSV as the console's exports write it (the audit log, the device list): cells safe to open
 * in a spreadsheet, and a whole filtered list streamed as a download a batch of lines at a
 * time, so a million rows never sit in memory.
 */

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes
 * doubled. A cell a spreadsheet would run as a formula (= + - @, or a tab or carriage
 * return before one) is prefixed with an apostrophe so it is shown as text.
 */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLine(cells: Array<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** CSV lines as a streamed download, a few hundred lines a chunk. */
export function csvDownload(lines: AsyncGenerator<string>, name: string): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = '';
      for (let i = 0; i < 500; i++) {
        const r = await lines.next();
        if (r.done) {
          if (chunk) controller.enqueue(enc.encode(chunk));
          controller.close();
          return;
        }
        chunk += r.value;
      }
      controller.enqueue(enc.encode(chunk));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}-${stamp}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
