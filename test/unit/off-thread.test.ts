import { chunkOffThread } from '../../src/projections/chunks/chunker-thread.js';
import { OFF_THREAD_CHARS } from '../../src/infrastructure/off-thread.js';
import { chunkText, DEFAULT_CHUNKER_CONFIG } from '../../src/projections/chunks/chunker.js';
import { documentKeys, seal, unseal } from '../../src/infrastructure/documents/document-keys.js';
import { sealOffThread, unsealOffThread } from '../../src/infrastructure/documents/seal-thread.js';

/** How many turns the event loop takes while `work` runs: 0 when it runs to the end on the calling thread. */
async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const spin = () => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  const pending = work();
  setImmediate(spin);
  const value = await pending;
  done = true;
  return { value, turns };
}

describe('sealing large payloads off the main thread', () => {
  const key = documentKeys.newKey();
  const large = { snapshot: { title: 'T', content: 'word '.repeat(OFF_THREAD_CHARS / 4) } };

  it('seals a large payload in the worker: the event loop keeps turning, and the result opens as usual', async () => {
    const size = large.snapshot.content.length;
    const { value: sealed, turns } = await loopTurnsDuring(() => sealOffThread(key, large, size));
    expect(turns).toBeGreaterThan(0);
    expect(unseal(key, sealed)).toEqual(large);
  });

  it('unseals a large payload in the worker, and what the main thread sealed opens there', async () => {
    const { value, turns } = await loopTurnsDuring(() => unsealOffThread(key, seal(key, large)));
    expect(turns).toBeGreaterThan(0);
    expect(value).toEqual(large);
  });

  it('keeps small payloads on the calling thread (no round trip)', async () => {
    const small = { snapshot: { title: 'T', content: 'short' } };
    const { value, turns } = await loopTurnsDuring(() => unsealOffThread(key, seal(key, small)));
    expect(turns).toBe(0);
    expect(value).toEqual(small);
  });

  it("rejects a payload sealed with another key with the cipher's error, and keeps serving", async () => {
    const sealed = seal(documentKeys.newKey(), large);
    await expect(unsealOffThread(key, sealed)).rejects.toThrow(/authenticate/);
    const again = await sealOffThread(key, large, large.snapshot.content.length);
    expect(await unsealOffThread(key, again)).toEqual(large);
  });
});

describe('chunking large texts off the main thread', () => {
  it('chunks a large text in the worker, as the main thread would, twice in a row on the same thread', async () => {
    const paragraph = 'Vitamin D status and bone density in older adults. '.repeat(40);
    const input = {
      content: Array.from({ length: OFF_THREAD_CHARS / paragraph.length + 2 }, () => paragraph).join('\n\n'),
    };
    const expected = chunkText(input, DEFAULT_CHUNKER_CONFIG);
    for (let run = 0; run < 2; run++) {
      const { value, turns } = await loopTurnsDuring(() => chunkOffThread(input, DEFAULT_CHUNKER_CONFIG));
      expect(turns).toBeGreaterThan(0);
      expect(value).toEqual(expected);
    }
  });
});
