"""Benchmarks that ship with the package, run as ``python -m minigrad bench NAME``.

``numdiff``: the cost of one gradient by backpropagation against central differences, one
parameter at a time, on MLPs from about 100 to about 100,000 parameters.
"""
