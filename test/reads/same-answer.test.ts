// The one comparison of replies carrying signed URLs (test/support/same-answer.ts): what it accepts and what it still catches.
import { describe, expect, it } from 'vitest';
import { answerDifference, sameAnswer, withObjects } from '../support/same-answer.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const url = (object: string, date: string, expires = 3600, sig = 'ab12') =>
  `${object}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
const reply = (image: string, code = 'sh010') => JSON.stringify({ results: { entities: [{ type: 'Shot', id: 1, code, image }] } });
const A = 'https://media.example.com/thumbnail/shot/1.jpg';

describe('sameAnswer: same objects, signatures valid for the margin, everything else byte-identical', () => {
  it('accepts byte-identical replies and a newer signature of the same object', () => {
    expect(sameAnswer(reply(A), reply(A), { nowMs: NOW })).toBe(true);
    expect(sameAnswer(reply(url(A, '20260101T115000Z')), reply(url(A, '20260101T120000Z', 3600, 'cd34')), { nowMs: NOW })).toBe(true);
    expect(withObjects(reply(url(A, '20260101T115000Z')))).toBe(reply(A));
  });

  it('catches another object, a signature inside the margin, an unsigned value against a signed one, and any other byte', () => {
    const site = reply(url(A, '20260101T120000Z'));
    expect(answerDifference(reply(url('https://media.example.com/thumbnail/shot/2.jpg', '20260101T120000Z')), site, { nowMs: NOW })).toMatch(/differ at byte/);
    expect(answerDifference(reply(url(A, '20260101T110500Z')), site, { nowMs: NOW })).toMatch(/less than the margin/);
    expect(answerDifference(reply(url(A, '20260101T120000Z', 900)), site, { nowMs: NOW + 400_000 })).toMatch(/less than the margin/);
    expect(answerDifference(reply(A), site, { nowMs: NOW })).toMatch(/signed on one side only/);
    expect(answerDifference(reply(url(A, '20260101T120000Z'), 'sh011'), site, { nowMs: NOW })).toMatch(/differ at byte/);
    expect(answerDifference(reply(`${A}?width=200`), reply(`${A}?width=300`), { nowMs: NOW })).toMatch(/differ at byte/);
  });
});
