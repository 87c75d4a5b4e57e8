"""Audits at organisation scale: many repositories, one datastore, incremental by content address.

targets     what to audit: repository paths, folders of repositories, lists, git URLs (cloned into a cache)
datastore   SQLite (WAL): targets, scans, blobs already scanned per rule set, findings and their places, triage
cache       the bridge to `history_scan`: blobs scanned before are not read again, their findings come back
incremental an audit's history scan: only commits no earlier complete scan covered are walked and read
runner      one task per repository (here, or on a Dask cluster) and the merge into the datastore; an
            unchanged repository (refs, rules, suppression inputs) is reported from its last scan
"""
