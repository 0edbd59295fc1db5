/**
 * `attachment`, with the file's name when it has one: as a quoted `filename` for every client, and when the name
 * is not plain ASCII also as RFC 5987 `filename*` (UTF-8, percent-encoded), which clients that know it prefer;
 * the quoted one then carries an ASCII stand-in.
 */
export function attachment(filename: string | undefined): string {
  if (!filename) return 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === filename) return `attachment; filename="${filename}"`;
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
