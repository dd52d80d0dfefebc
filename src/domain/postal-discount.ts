// What a batch may save at Japan Post, estimated so ops can check the figures before they ask the
// vendor: the barcode discount (letters with a customer barcode) and the pre-sort discount
// (区分郵便物: letters numbered in 郵便区番号 order, counted per 区分). The rates and thresholds are
// ours to keep in step with Japan Post's tariff (they change): here, in one table. Pure.

export interface DiscountRules {
  /** 定形郵便物 up to 25 g, yen. */
  letterPriceYen: number;
  barcode: { rate: number; minimum: number };
  /** The pre-sort rate by the batch's size: the highest tier the count reaches. */
  presort: ReadonlyArray<{ from: number; rate: number }>;
}

export const DISCOUNT_RULES: DiscountRules = {
  letterPriceYen: 110,
  barcode: { rate: 0.03, minimum: 1000 },
  presort: [{ from: 2000, rate: 0.03 }, { from: 10000, rate: 0.04 }, { from: 50000, rate: 0.05 }, { from: 100000, rate: 0.06 }],
};

export interface DiscountEstimate {
  letters: number;
  barcoded: number;
  /** 郵便区番号 (the code's first three digits) → letters. */
  per_kubun: Record<string, number>;
  barcode_rate: number;
  presort_rate: number;
  postage_yen: number;
  estimated_saving_yen: number;
  rules: DiscountRules;
}

export function discountEstimate(codes: readonly string[], barcoded: number, rules: DiscountRules = DISCOUNT_RULES): DiscountEstimate {
  const perKubun: Record<string, number> = {};
  for (const c of codes) perKubun[c.slice(0, 3)] = (perKubun[c.slice(0, 3)] ?? 0) + 1;
  const n = codes.length;
  const barcodeRate = barcoded >= rules.barcode.minimum ? rules.barcode.rate : 0;
  const presortRate = [...rules.presort].reverse().find((t) => n >= t.from)?.rate ?? 0;
  const postage = n * rules.letterPriceYen;
  const saving = Math.round(barcoded * rules.letterPriceYen * barcodeRate + postage * presortRate);
  return { letters: n, barcoded, per_kubun: perKubun, barcode_rate: barcodeRate, presort_rate: presortRate, postage_yen: postage, estimated_saving_yen: saving, rules };
}
