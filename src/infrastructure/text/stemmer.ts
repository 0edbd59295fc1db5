/**
 * The Porter stemmer (M. F. Porter, 1980), the variant of the reference C implementation (e.g. "bli" → "ble",
 * "logi" → "log" in step 2). Input: a lowercased ASCII word.
 */
export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  let w = step1b(step1a(word));
  w = step1c(w);
  w = replaceSuffix(w, STEP2);
  w = replaceSuffix(w, STEP3);
  return step5(step4(w));
}

function isCons(w: string, i: number): boolean {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return false;
  if (c === 'y') return i === 0 ? true : !isCons(w, i - 1);
  return true;
}

/** The measure m of w[0..j]: the number of VC sequences. */
function measure(w: string, j: number): number {
  let n = 0;
  let i = 0;
  for (;;) {
    if (i > j) return n;
    if (!isCons(w, i)) break;
    i++;
  }
  i++;
  for (;;) {
    for (;;) {
      if (i > j) return n;
      if (isCons(w, i)) break;
      i++;
    }
    i++;
    n++;
    for (;;) {
      if (i > j) return n;
      if (!isCons(w, i)) break;
      i++;
    }
    i++;
  }
}

function hasVowel(w: string, j: number): boolean {
  for (let i = 0; i <= j; i++) if (!isCons(w, i)) return true;
  return false;
}

function doubleCons(w: string, j: number): boolean {
  return j >= 1 && w[j] === w[j - 1] && isCons(w, j);
}

/** cvc at j where the last c is not w, x or y. */
function cvc(w: string, j: number): boolean {
  if (j < 2 || !isCons(w, j) || isCons(w, j - 1) || !isCons(w, j - 2)) return false;
  const c = w[j];
  return c !== 'w' && c !== 'x' && c !== 'y';
}

/** Plurals: "caresses" → "caress", "ponies" → "poni", "cats" → "cat". */
function step1a(w: string): string {
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ies')) return w.slice(0, -2);
  if (w.endsWith('ss')) return w;
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/** -eed, -ed, -ing, then the tidying of what -ed/-ing leave: "hopping" → "hop", "filing" → "file". */
function step1b(w: string): string {
  if (w.endsWith('eed')) return measure(w, w.length - 4) > 0 ? w.slice(0, -1) : w;
  let stem: string;
  if (w.endsWith('ed') && hasVowel(w, w.length - 3)) stem = w.slice(0, -2);
  else if (w.endsWith('ing') && hasVowel(w, w.length - 4)) stem = w.slice(0, -3);
  else return w;
  if (stem.endsWith('at') || stem.endsWith('bl') || stem.endsWith('iz')) return stem + 'e';
  if (doubleCons(stem, stem.length - 1)) {
    const c = stem[stem.length - 1];
    return c !== 'l' && c !== 's' && c !== 'z' ? stem.slice(0, -1) : stem;
  }
  if (measure(stem, stem.length - 1) === 1 && cvc(stem, stem.length - 1)) return stem + 'e';
  return stem;
}

/** A final y after a vowel-bearing stem becomes i: "happy" → "happi". */
function step1c(w: string): string {
  return w.endsWith('y') && hasVowel(w, w.length - 2) ? w.slice(0, -1) + 'i' : w;
}

/** Steps 2 and 3: the first listed suffix that matches is replaced when the stem before it has m > 0. */
function replaceSuffix(w: string, table: readonly (readonly [string, string])[]): string {
  for (const [suf, rep] of table) {
    if (w.endsWith(suf)) return measure(w, w.length - suf.length - 1) > 0 ? w.slice(0, -suf.length) + rep : w;
  }
  return w;
}

/** Step 4: the longest matching suffix only, removed when the stem before it has m > 1. */
function step4(w: string): string {
  let best = '';
  for (const suf of STEP4) if (suf.length > best.length && w.endsWith(suf)) best = suf;
  if (!best) return w;
  const j = w.length - best.length - 1;
  return measure(w, j) > 1 && (best !== 'ion' || w[j] === 's' || w[j] === 't') ? w.slice(0, j + 1) : w;
}

/** Step 5: a final e, and a final double l, where the measure allows. */
function step5(w: string): string {
  if (w.endsWith('e')) {
    const m = measure(w, w.length - 2);
    if (m > 1 || (m === 1 && !cvc(w, w.length - 2))) w = w.slice(0, -1);
  }
  if (w.endsWith('ll') && measure(w, w.length - 1) > 1) w = w.slice(0, -1);
  return w;
}

const STEP2: readonly (readonly [string, string])[] = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['izer', 'ize'],
  ['bli', 'ble'],
  ['alli', 'al'],
  ['entli', 'ent'],
  ['eli', 'e'],
  ['ousli', 'ous'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['aliti', 'al'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
  ['logi', 'log'],
];
const STEP3: readonly (readonly [string, string])[] = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];
const STEP4 = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
];
