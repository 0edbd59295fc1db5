/**
 * British → American spellings common in technical text, applied to a lowercased word before stemming, so
 * that "haemoglobin" meets "hemoglobin", "tumour" "tumor", "randomised" "randomized", "centre" "center",
 * "oestrogen" "estrogen", "catalogue" "catalog", "modelling" "modeling". Short words are left alone: the
 * rules would misfire on them more often than they help.
 */
export function americanize(w: string): string {
  if (w.length < 5) return w;
  let s = w;
  if (s.startsWith('oe')) s = 'e' + s.slice(2);
  if (s.includes('ae', 1)) s = s[0] + s.slice(1).replace(/ae/g, 'e');
  if (
    s.length >= 6 &&
    /our(s|ed|ing|ite|ites|able|ably)?$/.test(s) &&
    !/(four|hour|pour|flour|tour|court)/.test(s)
  )
    s = s.replace(/our(s|ed|ing|ite|ites|able|ably)?$/, 'or$1');
  if (s.length >= 6)
    s = s.replace(
      /(is|ys)(e|es|ed|ing|ation|ations|er|ers)$/,
      (_m, a: string, b: string) => (a === 'is' ? 'iz' : 'yz') + b,
    );
  if (/[^aeiou](tre|bre)s?$/.test(s)) s = s.replace(/(t|b)re(s?)$/, '$1er$2');
  if (s.endsWith('ogue')) s = s.slice(0, -2);
  s = s.replace(/(ll)(ed|ing|er|ers)$/, 'l$2');
  return s;
}
