"""Data sources, each producing the contract tables of DESIGN.md §4.

- :mod:`alphalab.data.sample`: the embedded offline sample (skfolio prices, index).
- :mod:`alphalab.data.factors`: Fama–French factors (embedded wheels, Ken French files).
- :mod:`alphalab.data.files`: local CSV / Parquet with a column mapping.
- :mod:`alphalab.data.yahoo`: yfinance, online and opt-in, snapshotted.
- :mod:`alphalab.data.simulate`: a synthetic market with a planted signal.
- :mod:`alphalab.data.manifest`: hashes and coverage of every table written.
- :mod:`alphalab.data.ingest`: the ingest stage, dispatching on ``params.data.source``.
"""
