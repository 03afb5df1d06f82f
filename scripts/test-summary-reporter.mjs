// A node:test reporter that writes one JSON summary of the run (counts of tests, pass, fail,
// skipped, todo, and the names of the skipped/todo/failed ones) to its destination.
// scripts/run-tests.mjs uses it next to the spec reporter. Suites are not counted as tests; a
// test file that fails to load is counted as one failed test (node reports it as one).
export default async function* summary(source) {
  const s = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, skippedNames: [], todoNames: [], failedNames: [] };
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') {
      // A skipped suite's tests are never reported one by one: count the suite as one skip.
      if (d.skip !== undefined && d.skip !== false) {
        s.tests++;
        s.skipped++;
        s.skippedNames.push(`${d.name}${typeof d.skip === 'string' ? ` (${d.skip})` : ''} [${d.file ?? ''}]`);
      }
      continue;
    }
    s.tests++;
    if (d.skip !== undefined && d.skip !== false) {
      s.skipped++;
      s.skippedNames.push(`${d.name}${typeof d.skip === 'string' ? ` (${d.skip})` : ''} [${d.file ?? ''}]`);
    } else if (d.todo !== undefined && d.todo !== false) {
      s.todo++;
      s.todoNames.push(`${d.name} [${d.file ?? ''}]`);
    } else if (ev.type === 'test:pass') {
      s.pass++;
    } else {
      s.fail++;
      s.failedNames.push(`${d.name} [${d.file ?? ''}]`);
    }
  }
  yield JSON.stringify(s) + '\n';
}
