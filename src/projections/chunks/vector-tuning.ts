import type { Recommendation } from '../../infrastructure/performance/recommendation.js';
import type { VectorIndexConfig } from './vector-index.js';
import type { RecallMeasurement } from './vector-recall.js';

/** The recall@10 the defaults are chosen for (vector-index.ts, BENCHMARKS.md). */
export const RECALL_TARGET = 0.95;
/** Recall this close to exact leaves room to search less hard… */
export const RECALL_FAR_ABOVE = 0.99;
/** …when an index query takes this long on average; faster, there is little to win. */
export const INDEX_LATENCY_HIGH_MS = 50;
/** HNSW_EF_SEARCH's configurable maximum (config.ts). */
export const EF_SEARCH_MAX = 1_000;

/**
 * `hnsw.ef_search` or `ivfflat.probes` against the measured recall: raised (doubled) when recall is below the
 * target, lowered (halved, not below the k searched) when it is far above and the index is slow.
 */
export function tuningAdvice(index: VectorIndexConfig, m: RecallMeasurement): Recommendation[] {
  if (!m.indexUsed || m.recall === null) return [];
  const setting =
    index.kind === 'hnsw'
      ? knobOf('HNSW_EF_SEARCH', index.efSearch, EF_SEARCH_MAX, m.k)
      : knobOf('IVFFLAT_PROBES', index.probes, index.lists, 1);
  const evidence = { ...m, target: RECALL_TARGET, setting: setting.name, value: setting.value };
  if (m.recall < RECALL_TARGET) return [lowRecall(setting, m.recall, evidence)];
  if (m.recall >= RECALL_FAR_ABOVE && m.meanIndexMs > INDEX_LATENCY_HIGH_MS && setting.lower < setting.value)
    return [
      {
        code: 'VECTOR_SEARCH_EFFORT_HIGH',
        severity: 'info',
        message:
          `the vector index finds ${percent(m.recall)} of the exact nearest chunks at ${setting.name}=` +
          `${setting.value}, in ${Math.round(m.meanIndexMs)} ms a query on average: ` +
          `${setting.name}=${setting.lower} may keep recall above ${percent(RECALL_TARGET)} for less time; ` +
          'measure again after the change',
        evidence: { ...evidence, suggested: setting.lower },
      },
    ];
  return [];
}

interface Knob {
  name: string;
  value: number;
  max: number;
  raise: number;
  lower: number;
}

function knobOf(name: string, value: number, max: number, floor: number): Knob {
  return {
    ...{ name, value, max },
    raise: Math.min(max, value * 2),
    lower: Math.max(floor, Math.floor(value / 2)),
  };
}

function lowRecall(setting: Knob, recall: number, evidence: Record<string, unknown>): Recommendation {
  const atMax = setting.raise <= setting.value;
  return {
    code: 'VECTOR_RECALL_LOW',
    severity: 'warning',
    message:
      `the vector index finds ${percent(recall)} of the exact nearest chunks ` +
      `(target ${percent(RECALL_TARGET)}) at ${setting.name}=${setting.value}: ` +
      (atMax
        ? `${setting.name} is at its maximum; rebuild the index with larger build parameters ` +
          '(HNSW_M, HNSW_EF_CONSTRUCTION; or IVFFLAT_LISTS matched to the corpus)'
        : `raise ${setting.name} to ${setting.raise} and measure again`),
    evidence: { ...evidence, suggested: atMax ? null : setting.raise },
  };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
