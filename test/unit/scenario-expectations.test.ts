import { describe, expect, it } from 'vitest';
import { allDecided, deadlines, evaluate, evaluateAll, Observations } from '../../sim/scenario/expectations.ts';
import { junitXml, xmlEscape } from '../../sim/scenario/junit.ts';
import { parseScenario } from '../../sim/scenario/parse.ts';
import { exitCodeOf, formatReport } from '../../sim/scenario/report.ts';

const opts = { baseDir: '/p', exists: () => true };

function scenario(expectYaml: string, extra = '') {
  return parseScenario(`${extra}expect:\n${expectYaml}`, 's.yaml', opts);
}

describe('serial expectations', () => {
  const s = scenario(
    [
      '  - serial: "Server Not Online"',
      '    after: 60s',
      '    before: 90s',
      '  - serial-matches: "^temp=\\\\d+\\\\.\\\\d$"',
      '  - serial: Traceback',
      '    absent: true',
    ].join('\n') + '\n',
  );
  const [down, matches, noTrace] = s.expect;

  it('passes only when the text arrives inside the window', () => {
    const obs = new Observations();
    obs.addSerial(10, 'Server Not Online\n'); // too early
    expect(evaluate(down!, obs, 50, s).status).toBe('pending');
    obs.addSerial(70, 'Server Not ');
    obs.addSerial(70.5, 'Online\n'); // split across chunks
    const r = evaluate(down!, obs, 71, s);
    expect(r.status).toBe('pass');
    expect(r.detail).toBe('seen at 70 s');
  });

  it('fails once the window is over, showing the output of the window', () => {
    const obs = new Observations();
    obs.addSerial(65, 'PUT ok\n');
    obs.addSerial(95, 'Server Not Online\n'); // too late
    expect(evaluate(down!, obs, 89, s).status).toBe('pending');
    const r = evaluate(down!, obs, 96, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('not seen; last serial lines in the window:\nPUT ok');
  });

  it('matches regular expressions per line', () => {
    const obs = new Observations();
    obs.addSerial(1, 'temp=21.55\n');
    expect(evaluate(matches!, obs, 2, s).status).toBe('pending');
    expect(evaluate(matches!, obs, 2, s, true).status).toBe('fail');
    obs.addSerial(2, 'temp=21.5\n');
    expect(evaluate(matches!, obs, 3, s).status).toBe('pass');
  });

  it('absent: fails when seen, passes at the end of the run', () => {
    const obs = new Observations();
    obs.addSerial(1, 'ok\n');
    expect(evaluate(noTrace!, obs, 5, s).status).toBe('pending');
    expect(evaluate(noTrace!, obs, 5, s, true).status).toBe('pass');
    obs.addSerial(6, 'Traceback (most recent call last):\n');
    const r = evaluate(noTrace!, obs, 7, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('seen at 6 s: "Traceback (most recent call last):"');
  });
});

describe('collector expectations', () => {
  const s = scenario(
    [
      '  - collector:',
      '      readings: 3',
      '      against: adc4',
      '      tolerance: 0.5',
      '      lag: 1s',
      '    after: 10s',
      '    before: 20s',
    ].join('\n') + '\n',
    'sensors:\n  adc4:\n    temperature:\n      ramp: {from: 20, to: 30, start: 0, end: 100}\n',
  );
  const e = s.expect[0]!;
  const add = (obs: Observations, t: number, celsius: number, server = 'server') => obs.addReading({ t, celsius, sensor: null, server });

  it('passes with enough readings, each near the timeline at its time', () => {
    const obs = new Observations();
    add(obs, 5, 99); // outside the window: ignored
    add(obs, 11, 21.1); // timeline 21.1
    add(obs, 12.5, 21.0); // timeline over [11.5, 12.5] is 21.15…21.25: within 0.5
    add(obs, 15, 21.5);
    add(obs, 16, 40, 'other'); // another server: ignored
    expect(evaluate(e, obs, 19, s).status).toBe('pending'); // window still open
    const r = evaluate(e, obs, 20, s);
    expect(r.status).toBe('pass');
    expect(r.detail).toBe('3 readings');
  });

  it('fails on a reading out of tolerance, naming its time, value and the expected range', () => {
    const obs = new Observations();
    add(obs, 11, 21.1);
    add(obs, 14, 22.5); // timeline 21.3…21.4 over [13, 14]
    const r = evaluate(e, obs, 14, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('1 of 2 readings out of tolerance:\nat 14 s: got 22.5, expected 21.3…21.4 ±0.5');
  });

  it('checks readings that arrive between evaluations', () => {
    const obs = new Observations();
    add(obs, 11, 21.1);
    expect(evaluate(e, obs, 11, s).status).toBe('pending');
    add(obs, 12, 21.2);
    expect(evaluate(e, obs, 12, s).status).toBe('pending');
    add(obs, 13, 25); // far from 21.3
    const r = evaluate(e, obs, 13, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('1 of 3 readings out of tolerance:\nat 13 s: got 25, expected 21.2…21.3 ±0.5');
  });

  it('fails with too few readings once the window is over', () => {
    const obs = new Observations();
    add(obs, 11, 21.1);
    const r = evaluate(e, obs, 25, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('only 1 reading; the last at 11 s: 21.1');
  });
});

describe('LED expectations and deadlines', () => {
  const s = scenario('  - led: on\n    at: 10s\n  - led: off\n    at: 3s\n  - serial: x\n    before: 7s\n');

  it('reads the state at the given time', () => {
    const obs = new Observations();
    obs.addLed(2, true);
    obs.addLed(4, false);
    obs.addLed(9, true);
    obs.addLed(12, false);
    const [on10, off3] = s.expect;
    expect(evaluate(on10!, obs, 9.5, s).status).toBe('pending');
    expect(evaluate(on10!, obs, 10, s).status).toBe('pass');
    const r = evaluate(off3!, obs, 30, s);
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('it was on (since 2 s)');
  });

  it('lists the times at which pending expectations are decided', () => {
    expect(deadlines(s)).toEqual([3, 7, 10]);
    const obs = new Observations();
    const results = evaluateAll(s, obs, 8);
    expect(results.map((r) => r.status)).toEqual(['pending', 'pass', 'fail']);
    expect(allDecided(results)).toBe(false);
    expect(allDecided(evaluateAll(s, obs, 10))).toBe(true);
  });
});

describe('report and JUnit', () => {
  const s = scenario('  - name: greeting\n    serial: "<hello & \'bye\'>"\n  - name: lamp\n    led: on\n    at: 1s\n');
  const obs = new Observations();
  obs.addSerial(0.5, 'boot \u0007ok <done>\n');
  obs.addLed(0.2, true);
  const results = evaluateAll(s, obs, 2, true);

  it('prints each failure with its line and reason, and the exit code', () => {
    expect(results.map((r) => r.status)).toEqual(['fail', 'pass']);
    const text = formatReport({ name: s.name, file: 's.yaml', results, simSeconds: 2, wallSeconds: 0.25 });
    expect(text).toBe(
      [
        'Scenario "s.yaml" — 2 s simulated in 0.3 s',
        `  FAIL  greeting: serial output contains "<hello & 'bye'>" at any time`,
        '        at s.yaml:2 (expect[0])',
        '        not seen by the end of the run (2 s); last serial lines in the window:',
        '        boot \u0007ok <done>',
        '  PASS  lamp: LED is on at 1 s',
        '2 expectations: 1 passed, 1 failed',
      ].join('\n'),
    );
    expect(exitCodeOf(results)).toBe(1);
    expect(exitCodeOf([results[1]!])).toBe(0);
    expect(exitCodeOf([results[1]!], 'board halted')).toBe(1);
  });

  it('escapes XML and drops characters XML cannot hold', () => {
    expect(xmlEscape(`a<b>&"c"'d'\u0001\u0007\t\n`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\t\n');
    const xml = junitXml([{ name: 'suite <1>', wallSeconds: 1.5, simSeconds: 2, results, serial: obs.serialText }]);
    expect(xml).toContain('<testsuites tests="2" failures="1" errors="0" time="1.500">');
    expect(xml).toContain('<testsuite name="suite &lt;1&gt;" tests="2" failures="1" errors="0" skipped="0" time="1.500">');
    expect(xml).toContain(`<testcase classname="suite &lt;1&gt;" name="greeting: serial output contains &quot;&lt;hello &amp; &apos;bye&apos;&gt;&quot; at any time" time="0">`);
    expect(xml).toContain('<failure message="not seen by the end of the run (2 s); last serial lines in the window:" type="ExpectationFailed">');
    expect(xml).toContain('<testcase classname="suite &lt;1&gt;" name="lamp: LED is on at 1 s" time="0"></testcase>');
    expect(xml).toContain('<system-out>boot ok &lt;done&gt;\n</system-out>');
    // No raw markup characters inside text: every < starts a tag we wrote.
    for (const m of xml.matchAll(/<(?!\/?(testsuites|testsuite|testcase|failure|error|system-out|properties|property|\?xml)[\s>/])/g)) {
      throw new Error(`stray < at ${m.index}`);
    }
  });
});
