#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Read fio's --output-format=json (from fio or from labblk) with one parser
and check the fields both fill, for a job file's one read job.

usage: fio_json.py FILE JOBNAME IO_BYTES BS

fio may print notes before the object (stdout), so the object starts at the
first '{'. Exit 0 when every check holds; otherwise each failed check is
printed with the file and the value found.
"""
import json
import sys


def read(path):
    text = open(path).read()
    return json.loads(text[text.index('{'):])


def check(path, jobname, io_bytes, bs):
    d = read(path)
    bad = []

    def want(cond, what, got):
        if not cond:
            bad.append(f'{path}: {what} (found {got!r})')

    want(d['global options'].get('bs') == bs, f'global options bs == {bs}',
         d['global options'])
    want(len(d['jobs']) == 1, 'one job (group_reporting)', len(d['jobs']))
    job = d['jobs'][0]
    want(job['jobname'] == jobname, f'jobname {jobname}', job['jobname'])
    want(job['error'] == 0, 'error 0', job['error'])
    want(job['job options'].get('rw') == 'randread', 'job options rw', job['job options'])
    r, w = job['read'], job['write']
    want(r['io_bytes'] == io_bytes, f'read.io_bytes == {io_bytes}', r['io_bytes'])
    want(r['io_kbytes'] == io_bytes // 1024, 'read.io_kbytes', r['io_kbytes'])
    want(r['total_ios'] == io_bytes // 4096, 'read.total_ios', r['total_ios'])
    want(w['io_bytes'] == 0 and w['total_ios'] == 0, 'no writes', w['io_bytes'])
    want(r['iops'] > 0 and r['bw'] > 0 and r['bw_bytes'] > 0, 'iops, bw > 0', r['iops'])
    want(r['runtime'] >= 0, 'runtime (ms) >= 0', r['runtime'])
    # bw is KiB/s, bw_bytes bytes/s: the same rate in two units (rounding).
    want(abs(r['bw'] - r['bw_bytes'] / 1024) <= 1, 'bw == bw_bytes / 1024',
         (r['bw'], r['bw_bytes']))
    for key in ('clat_ns', 'lat_ns'):
        s = r[key]
        want(s['N'] == r['total_ios'], f'{key}.N == total_ios', s['N'])
        want(0 < s['min'] <= s['mean'] <= s['max'], f'{key} min <= mean <= max', s)
        want(s['stddev'] >= 0, f'{key}.stddev >= 0', s['stddev'])
    p = r['clat_ns']['percentile']
    keys = ['1.000000', '5.000000', '10.000000', '20.000000', '30.000000', '40.000000',
            '50.000000', '60.000000', '70.000000', '80.000000', '90.000000', '95.000000',
            '99.000000', '99.500000', '99.900000', '99.950000', '99.990000']
    want(all(k in p for k in keys), 'percentiles p1 .. p99.99', sorted(p))
    vals = [p[k] for k in keys if k in p]
    want(vals == sorted(vals), 'percentiles ordered', vals)
    # fio's bucket values may pass the maximum (no check against max).
    want(vals and vals[0] > 0, 'p1 > 0', vals[:1])
    return bad


def main():
    path, jobname, io_bytes, bs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    bad = check(path, jobname, io_bytes, bs)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
