"""Benchmarks of the collection at enterprise scale against the local sandbox (``make bench``).

``python -m bench`` starts its own sandbox, seeds a generated estate and measures discovery, matching,
launch-into configuration, a wave-serialized failover and a modelled RTO. Results go to
``bench/results/latest.json`` and ``bench/results/latest.md``; docs/performance.md explains them.
"""
