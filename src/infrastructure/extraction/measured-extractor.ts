import { ExtractionError, type DetectedType, type TextExtractor } from './extraction.js';

/** `ok`, or the code of the ExtractionError (`INTERNAL_ERROR` for anything else). */
export type ExtractionOutcome = 'ok' | ExtractionError['code'] | 'INTERNAL_ERROR';

/** What metrics hear of extraction: each file's detected type (when it got that far) and outcome. */
export interface ExtractionRecorder {
  extracted(type: DetectedType | 'unknown', outcome: ExtractionOutcome): void;
}

/** The extractor, each file's outcome reported to `recorder`; errors pass through unchanged. */
export function measuredExtractor(inner: TextExtractor, recorder: ExtractionRecorder): TextExtractor {
  return {
    async extract(bytes, hint) {
      try {
        const extracted = await inner.extract(bytes, hint);
        recorder.extracted(extracted.type, 'ok');
        return extracted;
      } catch (error) {
        recorder.extracted('unknown', error instanceof ExtractionError ? error.code : 'INTERNAL_ERROR');
        throw error;
      }
    },
  };
}
