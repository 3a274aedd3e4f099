"""B3's ex-markers in ESPECI.

While an instrument trades without a right, B3 writes an ex-marker in ESPECI, between the share
class and the listing segment: ``ON  ED  NM`` is an ordinary share of the Novo Mercado trading
ex-dividend. The marker is ``E`` followed by one letter per right (layout document, ESPECI table):

====== ============================== =============
letter meaning                        kind
====== ============================== =============
A      ex-atualização (update)         ``update``
B      ex-bonificação (bonus)          share event
D      ex-dividendo                    ``dividend``
G      ex-grupamento (reverse split)   share event
J      ex-juros (interest on equity)   ``jcp``
R      ex-rendimento (fund income)     ``income``
S      ex-subscrição (subscription)    ``subscription``
====== ============================== =============

B3 has no marker for a split: in the files splits come with ``EB`` (the seven BDR splits of
2021-01-27 read ``DRN EB``). Combinations are concatenated (``EDJ`` = dividend and interest on
equity). The marker stays on for several sessions and *decays* (``EDJ`` becomes ``EJ`` as the
dividend ages out), so a new right is a letter present today and absent the session before.
"""

from __future__ import annotations

import re

MARKER_KINDS = {"A": "update", "B": "share", "D": "dividend", "G": "share", "J": "jcp", "R": "income",
                "S": "subscription"}
"""Kind of each marker letter (``share``: the factor is inferred from prices)."""

_MARKER = re.compile(r"^E[A-Z]{1,3}$")


def marker_letters(spec: str) -> frozenset[str]:
    """The rights an ESPECI says the instrument trades without: ``ON  EDJ N1`` -> {D, J}.

    Only the words after the share class are read, so the class ``ED`` of nothing is not mistaken.
    """
    words = str(spec).split()
    letters: set[str] = set()
    for word in words[1:]:
        if _MARKER.match(word):
            letters.update(word[1:])
    return frozenset(letters)
