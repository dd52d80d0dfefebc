// Synthetic affected customers for the demo and benchmarks: Japanese names and addresses, both
// segments, ja and en; some without email (they go to post), some the demo sink rejects with
// 550 5.1.1 ("nouser"), some it greylists first ("greylist"). Deterministic for a given seed.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const FAMILY = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤', '吉田', '山田', '佐々木', '山口', '松本', '井上', '木村', '林', '斎藤', '清水'];
const GIVEN = ['翔太', '陽菜', '大輔', '美咲', '健一', '由美', '拓也', '彩', '直樹', '恵子', '蓮', '結衣', '悠真', '葵', '誠', '真由美', '浩二', '千尋', '亮', '舞'];
const PLACES: Array<[string, string, string]> = [
  ['1000005', '東京都', '千代田区丸の内'], ['5300001', '大阪府', '大阪市北区梅田'], ['4600008', '愛知県', '名古屋市中区栄'],
  ['8120011', '福岡県', '福岡市博多区博多駅前'], ['0600001', '北海道', '札幌市中央区北一条西'], ['9800021', '宮城県', '仙台市青葉区中央'],
  ['7300011', '広島県', '広島市中区基町'], ['6008216', '京都府', '京都市下京区東塩小路町'], ['2310023', '神奈川県', '横浜市中区山下町'], ['9000006', '沖縄県', '那覇市おもろまち'],
];
const HEADER = 'customer_id,name,email,postal_code,prefecture,city,address_line1,address_line2,locale,segment\n';

export interface DemoMix {
  noEmail: number;
  hardBounce: number;
  greylist: number;
  english: number;
  card: number;
}

export const DEFAULT_MIX: DemoMix = { noEmail: 0.05, hardBounce: 0.03, greylist: 0.03, english: 0.1, card: 52958 / 92685 };

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function demoRow(i: number, r: () => number, mix: DemoMix): string {
  const [postal, pref, city] = PLACES[i % PLACES.length];
  // A few names a strict Shift_JIS print file cannot carry (𠮷, 髙), as real customer data has.
  const family = i % 101 === 0 ? '𠮷田' : i % 103 === 0 ? '髙橋' : FAMILY[Math.floor(r() * FAMILY.length)];
  const name = `${family} ${GIVEN[Math.floor(r() * GIVEN.length)]}`;
  const p = r();
  const local = `cust${String(i).padStart(7, '0')}`;
  let email = `${local}@example.com`;
  if (p < mix.noEmail) email = '';
  else if (p < mix.noEmail + mix.hardBounce) email = `nouser-${local}@example.net`;
  else if (p < mix.noEmail + mix.hardBounce + mix.greylist) email = `greylist-${local}@example.org`;
  const locale = r() < mix.english ? 'en' : 'ja';
  const segment = r() < mix.card ? 'card' : 'personal';
  const postalText = `${postal.slice(0, 3)}-${postal.slice(3)}`;
  return `C${String(i).padStart(7, '0')},${name},${email},${postalText},${pref},${city},${1 + (i % 9)}-${1 + (i % 20)}-${1 + (i % 30)},,${locale},${segment}\n`;
}

export async function writeDemoCsv(file: string, count: number, mix: DemoMix = DEFAULT_MIX, seed = 42): Promise<void> {
  const out = createWriteStream(file);
  const r = rng(seed);
  out.write(HEADER);
  for (let i = 1; i <= count; i++) {
    if (!out.write(demoRow(i, r, mix))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
