#!/usr/bin/env python3
"""Summarizes one scripts/bench run: a markdown table and one JSON document on stdout.

usage: bench_report.py OUT_DIR QUICK(0|1) MAX_RATE PROFILE_JSON   (MAX_RATE is ignored: worked out again)
       bench_report.py other-cpu RUN_JSON      % of a core used by other processes during one run
       bench_report.py line LOADGEN_JSON RUN_JSON   one line a person can read about one run
       bench_report.py verdict RESULTS_JSONL GROUP RATE   "pass" if that sweep's runs at RATE meet its target
Reads OUT_DIR/results.jsonl (loadgen's JSON lines) and OUT_DIR/runs.jsonl (scripts/bench's
bookkeeping per run), writes OUT_DIR/summary.md and OUT_DIR/summary.json.
Exit status 3 when a run misbehaved (listed under "anomalies").
"""
import json
import os
import platform
import re
import statistics
import sys

P99_TARGET_MS = 50.0
OTHER_CPU_MAX = float(os.environ.get('OTHER_CPU_MAX', '10'))
# soketi on the same kind of machine (2 vCPU VM, same loadgen), as given in the brief
SOKETI = {
    'fanout1k_deliveries_per_s': 100000,
    'fanout1k_server_us_per_delivery': 6.7,
    'fanout10k_p50_ms': 52, 'fanout10k_p99_ms': 121,
    'idle_kb_per_conn': '3.8-4.0',
    'connect_subscribe_per_s': 5000,
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def us_per_delivery(d):
    # server CPU over the publish+drain window / deliveries. loadgen reports the CPU as a percentage
    # of that window and deliveries_per_s over (nearly) the same window, so the ratio is CPU time per
    # delivery (exact when everything was delivered: the drain phase ends at the last delivery).
    if d['deliveries_per_s'] <= 0 or d['server_cpu_load_pct'] < 0:
        return None
    return d['server_cpu_load_pct'] / 100.0 / d['deliveries_per_s'] * 1e6


def cpu_noise(run):
    """Steal and per-CPU busy % over one run, from the /proc/stat lines scripts/bench saved."""
    def parse(s):
        out = {}
        for line in s.split(';'):
            f = line.split()
            if f:
                out[f[0]] = [int(x) for x in f[1:]]
        return out
    try:
        a, b = parse(run['stat0']), parse(run['stat1'])
        res = {}
        for cpu in ('cpu0', 'cpu1'):
            d = [y - x for x, y in zip(a[cpu], b[cpu])]
            total = sum(d[:8])
            idle = d[3] + d[4]
            res[cpu + '_busy_pct'] = round(100.0 * (total - idle) / total, 1) if total else None
            res[cpu + '_steal_pct'] = round(100.0 * d[7] / total, 2) if total else None
        return res
    except (KeyError, IndexError, ValueError):
        return {}


def other_cpu_pct(run):
    """CPU used during the run by processes other than the server and loadgen, in % of one core:
    busy ticks on all CPUs (/proc/stat) minus the server's ticks minus loadgen's CPU time."""
    try:
        hz = os.sysconf('SC_CLK_TCK')
        def parse(s):
            return {f[0]: [int(x) for x in f[1:]] for f in (line.split() for line in s.split(';')) if f}
        a, b = parse(run['stat0']), parse(run['stat1'])
        busy, span = 0, 0
        for cpu in a:
            if cpu == 'cpu':
                continue
            d = [y - x for x, y in zip(a[cpu], b[cpu])]
            busy += sum(d[:8]) - d[3] - d[4]
            span = max(span, sum(d[:8]))
        srv = run['server_ticks'][1] - run['server_ticks'][0]
        lt = run.get('loadgen_time') or ''
        lg = (float(lt.split()[0]) + float(lt.split()[1])) * hz if lt else 0
        return round(max(0.0, 100.0 * (busy - srv - lg) / span), 1) if span else None
    except (KeyError, IndexError, ValueError):
        return None


# The swept scenarios: the p99 each must stay under, and whether loadgen's order check means
# anything (it does only with one publishing connection: its sequence spans all publishers).
SWEEPS = {
    'fanout1k': {'p99_ms': P99_TARGET_MS, 'ordered': True,
                 'title': 'Fan-out, 1,000 subscribers on one channel, HTTP publishes over 1 keep-alive connection'},
    'fanout1k8': {'p99_ms': P99_TARGET_MS, 'ordered': False,
                  'title': 'Fan-out, 1,000 subscribers on one channel, HTTP publishes over 8 keep-alive connections'},
    'channels10k': {'p99_ms': 10.0, 'ordered': False,
                    'title': 'One channel per subscriber, 10,000 subscribers, HTTP publishes over 8 keep-alive connections'},
}


def meets_target(rows, group='fanout1k'):
    """A sweep's criterion: every repetition delivered everything exactly once (and in order where
    that is checked), with every publish accepted, no connection lost, and p99 under the target."""
    spec = SWEEPS[group]
    return bool(rows) and all(
        d['missing'] == 0 and d['dup'] == 0 and d['unexpected'] == 0
        and (d['out_of_order'] == 0 or not spec['ordered'])
        and d['pub_ok'] == d['pub_due'] and d['backlog_left'] == 0 and d['final_ready'] == d['conns']
        and d['lat_ms']['p99'] < spec['p99_ms'] for d in rows)


def anomalies_of(d, run):
    out = []
    if run is not None:
        if run['loadgen_rc'] != 0:
            out.append('loadgen exit status %d%s' % (run['loadgen_rc'], ' (timeout)' if run['loadgen_rc'] == 124 else ''))
        if not run['server_alive_after']:
            out.append('server was not running at the end of the run')
        if run['stop'] != 'ok':
            out.append('server stop: ' + run['stop'])
    if d is None:
        out.append('no JSON from loadgen')
        return out
    unordered = run is not None and not SWEEPS.get(run['group'], {'ordered': True})['ordered']
    for k in ('missing', 'dup', 'unexpected', 'out_of_order', 'closed_by_peer', 'handshake_fail', 'pub_err'):
        if d.get(k) and not (k == 'out_of_order' and unordered):
            out.append('%s=%d' % (k, d[k]))
    if d.get('missing') and d['lat_ms']['max'] > 1000:
        out.append('(deliveries were over 1 s late: any later than the end of the drain phase count as missing)')
    unanswered = d['pub_sent'] - d['pub_ok'] - d['pub_err']
    if d.get('unexpected') and unanswered > 0:
        out.append('(%d publish(es) still waiting for the HTTP response when loadgen stopped; deliveries of an '
                   'unanswered publish count as unexpected)' % unanswered)
    if d.get('backlog_left'):
        out.append('%d publishes never sent: the publisher fell behind (slow HTTP responses?)' % d['backlog_left'])
    if d['ready'] < d['conns']:
        out.append('only %d of %d connections ready' % (d['ready'], d['conns']))
    if d['final_ready'] < d['ready']:
        out.append('%d connections lost during the run' % (d['ready'] - d['final_ready']))
    if d['errors']:
        out.append('pusher errors %s' % json.dumps(d['errors']))
    bad_http = {k: v for k, v in d['http_status'].items() if k != '200'}
    if bad_http:
        out.append('HTTP statuses %s' % json.dumps(bad_http))
    return out


def build_info(out_dir):
    try:
        return json.load(open(os.path.join(out_dir, 'build-info.json')))
    except (OSError, ValueError):
        return {}


def machine():
    model = ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open('/proc/meminfo'):
            if line.startswith('MemTotal:'):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        'nproc': os.cpu_count(), 'cpu_model': model, 'kernel': platform.release(),
        'mem_gib': round(mem_kb / 1048576, 1),
    }


def main():
    out_dir, quick, max_rate, profile = sys.argv[1], sys.argv[2] == '1', int(sys.argv[3]), json.loads(sys.argv[4])
    results = [json.loads(l) for l in open(os.path.join(out_dir, 'results.jsonl')) if l.startswith('{')]
    runs = [json.loads(l) for l in open(os.path.join(out_dir, 'runs.jsonl')) if l.startswith('{')]
    by_label = {d['label']: d for d in results}

    all_runs, anomalies = [], []
    for run in runs:
        d = by_label.get(run['label'])
        an = anomalies_of(d, run)
        if an:
            anomalies.append({'run': run['run'], 'label': run['label'], 'what': an,
                              'server_log': 'server-%d.log' % run['run'], 'loadgen_args': run['args']})
        lt = run.get('loadgen_time') or ''
        noise = cpu_noise(run)
        noise['other_cpu_pct'] = other_cpu_pct(run)
        all_runs.append((run, d, noise, [float(x) for x in lt.split()] if lt else None))

    def group(name):
        return [(r, d, n, t) for r, d, n, t in all_runs if r['group'] == name and d is not None]

    # ---- (a) swept scenarios: fan-out to 1,000 (1 and 8 publishers), one channel per subscriber
    def sweep(name):
        rates = []
        for r, d, n, t in group(name):
            if d['rate'] not in rates:
                rates.append(d['rate'])
        rows = []
        for rate in rates:
            ds = [(r, d, n) for r, d, n, t in group(name) if d['rate'] == rate]
            lat = lambda q: med([d['lat_ms'][q] for _, d, _ in ds])
            loss = {k: sum(d[k] for _, d, _ in ds) for k in ('missing', 'dup', 'out_of_order', 'unexpected')}
            rows.append({
                'rate': rate, 'subscribers': ds[0][1]['conns'], 'reps': len(ds),
                'deliveries_per_s': med([d['deliveries_per_s'] for _, d, _ in ds]),
                'lat_ms': {q: lat(q) for q in ('p50', 'p90', 'p99', 'p999', 'max')},
                'p99_ms_each': [d['lat_ms']['p99'] for _, d, _ in ds],
                **loss,
                'server_cpu_pct': med([d['server_cpu_load_pct'] for _, d, _ in ds]),
                'server_us_per_delivery': med([us_per_delivery(d) for _, d, _ in ds]),
                'loadgen_cpu_pct': med([d['loadgen_cpu_pct'] for _, d, _ in ds]),
                'max_publish_lag_ms': max(d['max_sched_lag_ms'] for _, d, _ in ds),
                'cpu1_busy_pct': med([n.get('cpu1_busy_pct') for _, _, n in ds]),
                'steal_pct_max': max([max(n.get('cpu0_steal_pct') or 0, n.get('cpu1_steal_pct') or 0) for _, _, n in ds]),
                'other_cpu_pct_max': max([n.get('other_cpu_pct') or 0 for _, _, n in ds]),
                'meets_target': meets_target([d for _, d, _ in ds], name),
            })
        rows.sort(key=lambda f: f['rate'])
        passing = [f for f in rows if f['meets_target']]
        best = passing[-1] if passing else None
        spec = SWEEPS[name]
        return {
            'title': spec['title'],
            'criterion': 'in every repetition: p99 < %g ms, no missing/dup%s/unexpected delivery, '
                         'no failed or unsent publish, no lost connection' % (spec['p99_ms'], '/out-of-order' if spec['ordered'] else ''),
            'max_rate': best['rate'] if best else None,
            'max_deliveries_per_s': best['deliveries_per_s'] if best else None,
            'server_us_per_delivery_at_max': best['server_us_per_delivery'] if best else None,
            'by_rate': rows,
        }

    sweeps = {name: sweep(name) for name in SWEEPS if group(name)}
    fan = sweeps.get('fanout1k', {}).get('by_rate', [])
    best = next((f for f in fan if f['rate'] == sweeps['fanout1k']['max_rate']), None) if fan else None

    # ---- (b) fan-out to 10,000 at 1/s
    g = group('fanout10k')
    f10 = None
    if g:
        f10 = {
            'subscribers': g[0][1]['conns'], 'rate': g[0][1]['rate'], 'reps': len(g),
            'events_per_run': g[0][1]['pub_ok'],
            'lat_ms': {q: med([d['lat_ms'][q] for _, d, _, _ in g]) for q in ('p50', 'p90', 'p99', 'p999', 'max')},
            'p50_ms_each': [d['lat_ms']['p50'] for _, d, _, _ in g],
            'p99_ms_each': [d['lat_ms']['p99'] for _, d, _, _ in g],
            'missing': sum(d['missing'] for _, d, _, _ in g), 'dup': sum(d['dup'] for _, d, _, _ in g),
            'out_of_order': sum(d['out_of_order'] for _, d, _, _ in g),
            'conn_per_s_at_default_ramp_5000': med([d['conn_per_s'] for _, d, _, _ in g]),
            'rss_per_conn_subscribed': med([d['rss_per_conn'] for _, d, _, _ in g]),
            'other_cpu_pct_max': max(n.get('other_cpu_pct') or 0 for _, _, n, _ in g),
        }

    # ---- (c) idle memory
    g = group('idle10k')
    idle = None
    if g:
        idle = {
            'connections': g[0][1]['conns'], 'reps': len(g),
            'rss_bytes_per_conn': med([d['rss_per_conn'] for _, d, _, _ in g]),
            'rss_bytes_per_conn_each': [round(d['rss_per_conn']) for _, d, _, _ in g],
            'rss_before_mb': med([d['server_rss_before'] / 1048576 for _, d, _, _ in g]),
            'rss_idle_mb': med([d['server_rss_idle'] / 1048576 for _, d, _, _ in g]),
            'server_cpu_idle_pct': med([d['server_cpu_idle_pct'] for _, d, _, _ in g]),
            'connect_only_per_s': med([d['conn_per_s'] for _, d, _, _ in g]),
            'other_cpu_pct_max': max(n.get('other_cpu_pct') or 0 for _, _, n, _ in g),
        }

    # ---- (d) connect + subscribe
    g = group('connect10k')
    conn = None
    if g:
        def lg_pct(t, d):  # loadgen's CPU over its whole run (connect phase, nearly all of it here)
            return round(100.0 * (t[0] + t[1]) / t[2], 1) if t and t[2] > 0 else None
        conn = {
            'connections': g[0][1]['conns'], 'reps': len(g),
            'conn_subscribe_per_s': med([d['conn_per_s'] for _, d, _, _ in g]),
            'conn_subscribe_per_s_each': [round(d['conn_per_s']) for _, d, _, _ in g],
            'connect_secs': med([d['connect_secs'] for _, d, _, _ in g]),
            # the server was started just before, so its total CPU time is (almost all) the connect phase
            'server_cpu_pct_during_connect': med([100.0 * d['server_cpu_s_total'] / d['connect_secs']
                                                  for _, d, _, _ in g if d['connect_secs'] > 0]),
            'loadgen_cpu_pct_whole_run': med([lg_pct(t, d) for _, d, _, t in g]),
            'retries': sum(d['retries'] for _, d, _, _ in g),
            'other_cpu_pct_max': max(n.get('other_cpu_pct') or 0 for _, _, n, _ in g),
        }

    set_aside = []
    try:
        set_aside = [json.loads(l) for l in open(os.path.join(out_dir, 'runs-set-aside.jsonl')) if l.startswith('{')]
    except OSError:
        pass
    noise = {
        'note': 'other_cpu_pct: CPU used by processes other than the server and loadgen during a run, in % of one '
                'core; runs above the limit were set aside and repeated (within a retry budget)',
        'max_steal_pct': max([max(n.get('cpu0_steal_pct') or 0, n.get('cpu1_steal_pct') or 0) for _, _, n, _ in all_runs] or [0]),
        'max_other_cpu_pct_kept_runs': max([n.get('other_cpu_pct') or 0 for _, _, n, _ in all_runs] or [0]),
        'kept_runs_other_cpu_pct': {r['label']: n.get('other_cpu_pct') for r, _, n, _ in all_runs},
        'set_aside_runs': [{'label': r['label'], 'other_cpu_pct': other_cpu_pct(r)} for r in set_aside],
    }

    doc = {
        'tool': 'scripts/bench', 'mode': 'quick' if quick else 'full', 'machine': machine(),
        'build': build_info(out_dir),
        'p99_target_ms': P99_TARGET_MS,
        'fanout_1k': sweeps.get('fanout1k'),
        'fanout_1k_8_publishers': sweeps.get('fanout1k8'),
        'channels_10k': sweeps.get('channels10k'),
        'fanout_10k': f10, 'idle_10k': idle, 'connect_10k': conn,
        'soketi_reference': SOKETI, 'noise': noise, 'profile': profile, 'anomalies': anomalies,
        'out_dir': out_dir,
    }

    # ---- table
    fmt = lambda x, f='%.1f': '-' if x is None else f % x
    lines = []
    m = doc['machine']
    b = doc['build']
    lines.append('raptor %s%s (binary sha256 %s) on %d x %s, kernel %s; server on CPU 0, loadgen on CPU 1 (%s run)' % (
        b.get('commit', '?'), ' + uncommitted changes in src/ or CMakeLists.txt' if b.get('uncommitted_build_inputs') else '',
        b.get('raptor_sha256', '?'), m['nproc'], m['cpu_model'], m['kernel'], doc['mode']))
    for name, sw in sweeps.items():
        rows = sw['by_rate']
        lines.append('')
        lines.append('%s (medians over %s reps; missing/dup/ooo summed; target: %s)' % (sw['title'], rows[0]['reps'], sw['criterion']))
        lines.append('')
        lines.append('| publish/s | deliveries/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p99 each rep | '
                     'missing/dup/ooo | server CPU % | server µs/delivery | loadgen CPU % | other CPU % (max) | '
                     'meets target |')
        lines.append('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
        for f in rows:
            l = f['lat_ms']
            lines.append('| %g | %.0f | %s | %s | %s | %s | %s | %s | %d/%d/%d | %.0f | %s | %.0f | %.0f | %s |' % (
                f['rate'], f['deliveries_per_s'], fmt(l['p50']), fmt(l['p90']), fmt(l['p99']), fmt(l['p999']),
                fmt(l['max']), ' / '.join('%.0f' % x for x in f['p99_ms_each']), f['missing'], f['dup'],
                f['out_of_order'], f['server_cpu_pct'], fmt(f['server_us_per_delivery'], '%.2f'),
                f['loadgen_cpu_pct'], f['other_cpu_pct_max'], 'yes' if f['meets_target'] else 'no'))
    lines.append('')
    lines.append('| figure | raptor | soketi (same machine kind) |')
    lines.append('|---|---|---|')
    if fan:
        lines.append('| fan-out 1k: highest rate with p99 < 50 ms, no loss | %s | ~100,000 deliveries/s |' % (
            ('%.0f deliveries/s (%g publish/s)' % (best['deliveries_per_s'], best['rate'])) if best else 'none of the rates tried'))
        lines.append('| fan-out 1k: server CPU per delivery at that rate | %s | 6.7 µs |' % (
            ('%.2f µs' % best['server_us_per_delivery']) if best and best['server_us_per_delivery'] else '-'))
    if f10:
        lines.append('| fan-out 10k at 1 publish/s: p50 / p99 | %s / %s ms (p99.9 %s, max %s; missing %d) | 52 / 121 ms |' % (
            fmt(f10['lat_ms']['p50']), fmt(f10['lat_ms']['p99']), fmt(f10['lat_ms']['p999']), fmt(f10['lat_ms']['max']), f10['missing']))
    if idle:
        lines.append('| idle memory at 10k connections | %.0f B/conn (%.1f KiB; each rep %s) | 3.8-4.0 KB/conn |' % (
            idle['rss_bytes_per_conn'], idle['rss_bytes_per_conn'] / 1024, ', '.join(map(str, idle['rss_bytes_per_conn_each']))))
    if conn:
        lines.append('| connect+subscribe, 10k, no ramp cap | %.0f /s (each rep %s; server CPU %s%%) | ~5,000/s |' % (
            conn['conn_subscribe_per_s'], ', '.join(map(str, conn['conn_subscribe_per_s_each'])),
            fmt(conn['server_cpu_pct_during_connect'], '%.0f')))
    if f10:
        lines.append('| connect+subscribe, 10k, loadgen default ramp cap 5,000/s | %.0f /s | |' % f10['conn_per_s_at_default_ramp_5000'])
    if idle:
        lines.append('| connect only (idle run, ramp cap 20,000/s) | %.0f /s | |' % idle['connect_only_per_s'])
    lines.append('')
    lines.append('Machine noise: max CPU steal %.2f%%; other processes used at most %.1f%% of a core during a kept run; '
                 '%d run(s) set aside for contention and repeated' % (
                     noise['max_steal_pct'], noise['max_other_cpu_pct_kept_runs'], len(set_aside)))
    noisy = [(r['label'], n['other_cpu_pct']) for r, _, n, _ in all_runs if (n.get('other_cpu_pct') or 0) > OTHER_CPU_MAX]
    if noisy:
        lines.append('WARNING: kept runs with other processes above %g%% of a core (retry budget used up): %s' % (
            OTHER_CPU_MAX, ', '.join('%s (%.0f%%)' % x for x in noisy)))
    if isinstance(profile, dict):
        lines.append('')
        lines.append('Profile (perf record -e cpu-clock -g, server pid, 5 s at %d publish/s), CPU by object:' % profile['rate'])
        lines.extend('    ' + re.sub(r'\s+', ' ', x) for x in profile['by_dso'])
    elif profile:
        lines.append('profile: %s' % profile)
    if anomalies:
        lines.append('')
        lines.append('ANOMALIES (see %s):' % out_dir)
        for a in anomalies:
            lines.append('  run %d %s: %s' % (a['run'], a['label'], '; '.join(a['what'])))
    table = '\n'.join(lines)

    with open(os.path.join(out_dir, 'summary.md'), 'w') as fh:
        fh.write(table + '\n')
    with open(os.path.join(out_dir, 'summary.json'), 'w') as fh:
        json.dump(doc, fh, indent=2)
    print(table)
    print()
    print(json.dumps(doc, indent=2))
    return 3 if anomalies else 0


def line(lg_path, run_path):
    run = json.load(open(run_path))
    other = other_cpu_pct(run)
    for l in open(lg_path):
        if not l.startswith('{'):
            continue
        d = json.loads(l)
        lat = d['lat_ms']
        if d['rate'] > 0:
            print('    %.0f deliveries/s  p50 %.1f  p99 %.1f  p99.9 %.1f ms  missing %d dup %d ooo %d  server CPU %.0f%%  '
                  'loadgen CPU %.0f%%  other CPU %s%%' % (
                      d['deliveries_per_s'], lat['p50'], lat['p99'], lat['p999'], d['missing'], d['dup'],
                      d['out_of_order'], d['server_cpu_load_pct'], d['loadgen_cpu_pct'], other))
        else:
            print('    %d/%d ready, %.0f conn/s, RSS +%.0f B/conn  other CPU %s%%' % (
                d['ready'], d['conns'], d['conn_per_s'], d['rss_per_conn'], other))


if __name__ == '__main__':
    if sys.argv[1] == 'other-cpu':
        v = other_cpu_pct(json.load(open(sys.argv[2])))
        print(0 if v is None else v)
    elif sys.argv[1] == 'line':
        line(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'verdict':
        rows = [json.loads(l) for l in open(sys.argv[2]) if l.startswith('{')]
        group, rate = sys.argv[3], sys.argv[4]
        print('pass' if meets_target([d for d in rows if d['label'].startswith('%s R=%s #' % (group, rate))], group) else 'fail')
    else:
        sys.exit(main())
