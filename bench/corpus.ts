/**
 * A seeded generator of sports-nutrition-like Markdown for the benchmarks: Zipf-distributed words in 40 topics,
 * headings, 2,000–8,000 tokens per document; tags `ten` on ~10 % and `one` on ~1 % of the documents. The same
 * calls in the same order give the same corpus.
 */
import { decode } from 'gpt-tokenizer/encoding/cl100k_base';

let seed = 20_261_124;
export function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0; // mulberry32
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
export const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const words = (s: string) => s.split(/\s+/).filter(Boolean);
const STOP = words(`the of and in to with for was were is by on at as that from or than after during between
  per this these their a an not but both each which when while`);
const GENERAL =
  words(`study results showed significant increased reduced compared group participants week session
  effect higher lower trained performance baseline control intervention measured observed mean daily total body
  acute chronic response trial test protocol intake dose load volume intensity duration rate level change
  improved associated evidence data analysis review subjects healthy young older male female adults sample
  following prior meal time hours minutes days weeks greater similar differences markers values practical`);
const ROOTS =
  words(`protein carbohydrate glycogen creatine caffeine hydration electrolyte sodium potassium endurance
  sprint hypertrophy mitochondria lactate threshold ketogenic fasting insulin glucose fructose leucine whey casein
  micronutrient vitamin iron ferritin hemoglobin recovery sleep periodization taper cortisol testosterone muscle
  tendon cycling marathon triathlon rowing swimming resistance strength power cadence oxygen uptake metabolism
  oxidation ketone nitrate beetroot collagen probiotic microbiome inflammation antioxidant polyphenol calorie
  deficit supplementation placebo crossover cohort athletes elite adolescent menstrual bone calcium magnesium zinc
  sweat altitude bicarbonate anaerobic aerobic interval tempo adiposity lipid glycemic exercise fatigue soreness
  damage synthesis breakdown amino acid fiber starch sucrose maltodextrin gel beverage plasma serum blood renal
  hepatic cardiac vascular thermoregulation heat cold cramp jump squat deadlift bench torque velocity stride`);
const PREFIXES = ['', 'pre', 'post', 'hyper', 'hypo', 'intra', 'inter', 'anti', 'sub', 're', 'non', 'co'];
// A long tail of general English from the tokenizer's vocabulary (single-token words, in merge ≈ frequency order).
const tail: string[] = [];
for (let id = 0; id < 100_000 && tail.length < 2_000; id++) {
  const w = decode([id]);
  if (/^ [a-z]{5,13}$/.test(w)) tail.push(w.slice(1));
}
const compounds = PREFIXES.flatMap((p) => ROOTS.map((r) => p + r)).sort(() => rand() - 0.5);
const head = [...GENERAL, ...ROOTS].sort(() => rand() - 0.5);
const rest = tail.flatMap((w, i) => (i < compounds.length ? [w, compounds[i]!] : [w]));
const VOCAB = [...new Set([...head, ...rest])];
// Zipf-like ranks (s ≈ 1) by inverting the continuous 1/x law on [1, n + 1].
const zipf = (n: number) => () => Math.min(n - 1, Math.floor(Math.exp(rand() * Math.log(n + 1))) - 1);
const anyWord = zipf(VOCAB.length);
export const TOPICS = Array.from({ length: 40 }, () =>
  Array.from({ length: 150 }, () => VOCAB[30 + anyWord()]!),
);
const topicWord = zipf(150);
const word = (topic: string[]) => (rand() < 0.5 ? topic[topicWord()]! : VOCAB[anyWord()]!);
export const phrase = (topic: string[], n: number) => Array.from({ length: n }, () => word(topic)).join(' ');
function sentence(topic: string[]): string {
  const w = Array.from({ length: 8 + Math.floor(rand() * 18) }, () =>
    rand() < 0.35 ? pick(STOP) : rand() < 0.03 ? (rand() * 100).toFixed(1) : word(topic),
  ).join(' ');
  return `${w[0]!.toUpperCase()}${w.slice(1)}.`;
}
export function makeDoc(coachId: string) {
  const topic = pick(TOPICS);
  const parts = [`# ${phrase(topic, 5)}`];
  // ~1.3 tokens per word: 2,000–8,000 tokens
  for (let words = 0, target = (2_000 + rand() * 6_000) / 1.3; words < target;) {
    parts.push(`## ${phrase(topic, 3)}`);
    for (let p = 2 + Math.floor(rand() * 4); p > 0; p--) {
      const paragraph = Array.from({ length: 3 + Math.floor(rand() * 6) }, () => sentence(topic)).join(' ');
      parts.push(paragraph);
      words += paragraph.split(' ').length;
    }
  }
  const tags = [`topic-${TOPICS.indexOf(topic)}`];
  if (rand() < 0.1) tags.push('ten');
  if (rand() < 0.01) tags.push('one');
  const metadata = { documentType: pick(['research', 'guide']), tags, accessTier: pick(['free', 'premium']) };
  return { coachId, title: phrase(topic, 4), content: parts.join('\n\n') + '\n', metadata };
}
export type Doc = ReturnType<typeof makeDoc>;
