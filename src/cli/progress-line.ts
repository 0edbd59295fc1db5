/** On a terminal one line is rewritten in place; otherwise a line every few seconds (logs stay short). */
export function progressOnStderr(): (line: string, final: boolean) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (line, final) => {
    if (tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (final || Date.now() - last > 5_000) {
      process.stderr.write(`${line}\n`);
      last = Date.now();
    }
  };
}
