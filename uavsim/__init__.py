"""uavsim: plan, simulate and track the safety of low-altitude drone operations.

Importing the package does nothing observable: no logging setup, no file access, no JIT compilation.
"""

__version__ = "0.1.0"
