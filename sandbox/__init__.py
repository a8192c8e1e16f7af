"""Local AWS sandbox for the collection's demo and tests: moto plus a DRS emulator on one loopback port.

Start it with ``python -m sandbox start``; see docs/sandbox.md.
"""
