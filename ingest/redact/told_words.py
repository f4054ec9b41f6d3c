"""Word lists of the sentence detectors (phrases, sentences): which words cannot be part of a
passphrase, which name a setting rather than a password, and which end a clause after one.
"""

from __future__ import annotations

FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a abend aber about account admin after again ainda ale all almost also always amanhã an
    anche ancora and another any anyone anything app are as at auch aujourd avec avond ayer
    back be because been before between but by can che code codes com con could dans das del
    della dem demain den der des det did die do does domani done during dzisiaj each een ein
    eine eller email encore error errors esse even ever every everything few for fortfarande
    from gestern get gisteren got had has have he help her here het heute hier his hoje how
    hoy idag ieri if igår immer imorgon in inte into invoice is isso issue it jest jetzt
    jour just jutro już kväll les less like login maar made mail mais make many mas matin
    mattina may mañana me men message messages month more morgen most much my naar never new
    nicht nie niet noch noche nog non not nothing now number numbers nun não och också oder
    of off oggi old on one only ontem ook or order other our out over page para password
    passwords per pero please por pour problem quite really same schon sera she should since
    site so soir some someone something sometimes still such support sur tarde team też than
    thank thanks that the their them then there these they thing things this those though
    three through ticket time to todavía today tomorrow too toujours two uma una und under
    une unless until us user users van vandaag very via was way wczoraj we week were what
    when where whether which while who why wieder will with within without would year
    yesterday yet you your
    """.split()  # noqa: SIM905
)
"""Words of prose, never a word of a passphrase ("the new one is working fine")."""

SETTING_WORDS: frozenset[str] = frozenset(
    """
    access annual annually auto automatic automatically basic beta business client daily
    dark days default defaults disable disabled dutch edit editor enable enabled english
    everyone false format free french full german global guest guests high hourly hours
    italian large latest level light limit local low manual manually medium member members
    minutes mode monthly months nobody none normal option options owner percent plan polish
    portuguese premium private pro public read seconds server setting settings size small
    spanish stable standard swedish timezone trial true version view viewer weekly weeks
    write yearly years zone
    """.split()  # noqa: SIM905
)
"""Words that name a setting ("I set it to read only mode"): a sentence with no password
keyword that ends in one of them names no password."""

CLAUSE_ENDS: frozenset[str] = frozenset(
    """
    aangepast aber again ale although and avec because bo but car com con doch e eftersom en
    et fordi gereset gesetzt gewijzigd geändert however i ingesteld jedoch ma maar mais mas
    med men met mit now och og omdat perché pero però porque so still teruggezet then though
    too umgestellt und veranderd weil which with y yet z zurückgesetzt
    """.split()  # noqa: SIM905
)
"""Words that may follow a passphrase and end its clause ("now it's A B C but it fails",
the verb of "ich habe es auf A B C zurückgesetzt")."""

HOST_ENDINGS: frozenset[str] = frozenset(
    """
    app biz cfg com conf csv de dev es eu exe fr htm html info ini internal io it jpg js
    json lan local log net nl org pdf php pl png py se txt uk xml yaml yml zip
    """.split()  # noqa: SIM905
)
"""Last parts of host and file names: "mail.example.com" and "config.local.yaml" are no
passphrase of dotted words."""
