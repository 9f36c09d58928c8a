"""wirenews stages, one package each (sources, cleaning, entities, sink), plus the plain data they pass on.

Each stage holds pure functions over plain data and a thin Beam wrapper around them. A stage's
``__init__`` names what the program uses; its Beam wrappers are imported from there only when asked
for (``__getattr__``), because importing Beam takes seconds and a pass where nothing changed, or a
command such as ``wirenews clean``, never needs it.
"""
