// Sisimai's expected results, read from go-sisimai's test tables (fact/*_test.go):
//   {{"02", 1, "5.1.1", "550", "userunknown", true, ""}, {"02", 2, ...}}, …
//   }; EngineTest(t, "Exim", publiclist, true)
// → one label per message file and recipient index.
export interface Label {
  /** File name under set-of-emails/maildir/bsd. */
  file: string;
  index: number;
  status: string;
  replyCode: string;
  reason: string;
  hard: boolean;
  /** Feedback-Type for complaints ("abuse", "auth-failure"…), else empty. */
  another: string;
}

export function parseSisimaiLabels(sources: string[]): Label[] {
  const out: Label[] = [];
  for (const src of sources) {
    const fn = /func Test(Lhost|Rhost)?(\w+)\(t \*testing\.T\)/.exec(src);
    if (!fn) continue;
    const block = /publiclist := \[\]\[\]IsExpected\{([\s\S]*?)\};?\s*EngineTest\(t, "([^"]+)", publiclist, true\)/.exec(src);
    if (!block) continue;
    const prefix = fn[1] === 'Lhost' ? 'lhost-' : fn[1] === 'Rhost' ? 'rhost-' : '';
    const engine = block[2].toLowerCase();
    for (const m of block[1].matchAll(/\{"(\d+)",\s*(\d+),\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*(true|false),\s*"([^"]*)"/g)) {
      out.push({ file: `${prefix}${engine}-${m[1]}.eml`, index: Number(m[2]), status: m[3], replyCode: m[4], reason: m[5], hard: m[6] === 'true', another: m[7] });
    }
  }
  // A table may list the same message twice (a copy-paste in the source): keep one.
  const seen = new Set<string>();
  return out.filter((l) => !seen.has(`${l.file}#${l.index}`) && !!seen.add(`${l.file}#${l.index}`));
}
