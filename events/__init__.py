"""The domain: events, commands, the envelope and its hash chain, and the pure rules.

Nothing here does I/O or imports a framework; services move these values around.
"""
