// Reading /metrics as Prometheus does: the scrape parsed by a Prometheus exposition parser, and
// one sample's value.
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { request } from './http-api.mjs';

export const bearer = (token) => ({ authorization: `Bearer ${token}` });

// The scrape, parsed: {family name: family} with each sample's value as a number.
export async function scrape(server, token) {
  const res = await request(server, { path: '/metrics', headers: bearer(token) });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return Object.fromEntries(parsePrometheusTextFormat(res.text).map((f) => [f.name, f]));
}

// The value of the sample of `family` whose labels include `labels`.
export function value(families, name, labels = {}) {
  const family = families[name];
  assert.ok(family, `${name} is exported`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.ok(sample, `${name} has a sample labelled ${JSON.stringify(labels)}`);
  return Number(sample.value ?? sample.count);
}
