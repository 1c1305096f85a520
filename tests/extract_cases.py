"""Contact blocks in the shapes NGO and UN press releases use, each with the people expected.

All people and numbers are invented; numbers come from phonenumbers' example numbers and the
US 555-01xx range. Each case: (id, text, fallback region, expected people), where a person is
(name, office as written, emails, [(e164, whatsapp), ...]).
"""

from __future__ import annotations

Person = tuple[str, str, list[str], list[tuple[str | None, bool]]]

CASES: list[tuple[str, str, str | None, list[Person]]] = [
    (
        "product-example",
        """For more information and media inquiries, please contact:
In Niamey: Mariam Diallo, Press Officer for the Sahel: mdiallo@example.org
In The Hague: Pieter de Vries, Head of Media: pdevries@example.org , +33.6.12.34.56.78/ +1.202.555.0147 (WhatsApp)
""",
        None,
        [
            ("Mariam Diallo", "Niamey", ["mdiallo@example.org"], []),
            (
                "Pieter de Vries",
                "The Hague",
                ["pdevries@example.org"],
                [("+33612345678", False), ("+12025550147", True)],
            ),
        ],
    ),
    (
        "national-number-from-office-city",
        """Media contact:
In Niamey: Ousmane Abdou, Communications Officer: oabdou@example.org, 93 12 34 56 (WhatsApp)
""",
        None,
        [("Ousmane Abdou", "Niamey", ["oabdou@example.org"], [("+22793123456", True)])],
    ),
    (
        "french-one-line",
        """Pour plus d'informations, veuillez contacter :
À Niamey : Aïssata Traoré, chargée de presse : atraore@example.org, +227 20 20 12 34 / 93 12 34 56 (WhatsApp)
""",
        None,
        [
            (
                "Aïssata Traoré",
                "Niamey",
                ["atraore@example.org"],
                [("+22720201234", False), ("+22793123456", True)],
            )
        ],
    ),
    (
        "multi-line-labels",
        """Media contacts

Mariam Diallo
Press Officer
Niamey
Tel: +227 20 20 12 34
Mobile: 93 12 34 56
Email: mdiallo@example.org
""",
        None,
        [
            (
                "Mariam Diallo",
                "Niamey",
                ["mdiallo@example.org"],
                [("+22720201234", False), ("+22793123456", False)],
            )
        ],
    ),
    (
        "multi-line-whatsapp-line",
        """Press contacts

Hannah Lindqvist
Senior Press Officer, The Hague
Mobile: 06 12345678
WhatsApp: +31 6 12345678
E-mail: hlindqvist@example.org
""",
        None,
        [("Hannah Lindqvist", "The Hague", ["hlindqvist@example.org"], [("+31612345678", True)])],
    ),
    (
        "slash-record",
        """Media contact
Julien Marchetti / Spokesperson / Tel: +33 1 23 45 67 89 / Email: jmarchetti@example.org
""",
        None,
        [("Julien Marchetti", "", ["jmarchetti@example.org"], [("+33123456789", False)])],
    ),
    (
        "french-tel-courriel",
        """Contacts presse

Fatou Ndiaye
Chargée de communication, Dakar
Tél. : 70 123 45 67
Courriel : fndiaye@example.org
""",
        None,
        [("Fatou Ndiaye", "Dakar", ["fndiaye@example.org"], [("+221701234567", False)])],
    ),
    (
        "double-zero-prefix",
        """For media enquiries:
Boubacar Keita, Head of Office, Bamako: bkeita@example.org, 00223 65 01 23 45 (WhatsApp)
""",
        None,
        [("Boubacar Keita", "Bamako", ["bkeita@example.org"], [("+22365012345", True)])],
    ),
    (
        "two-people-blank-lines",
        """Media contacts:

Amina Moussa
Communication Officer, N'Djamena
Tel: 63 01 23 45
amoussa@example.org

Pierre Laurent
Regional Spokesperson, Dakar
Mobile: +221 70 123 45 67
plaurent@example.org
""",
        None,
        [
            ("Amina Moussa", "N'Djamena", ["amoussa@example.org"], [("+23563012345", False)]),
            ("Pierre Laurent", "Dakar", ["plaurent@example.org"], [("+221701234567", False)]),
        ],
    ),
    (
        "city-header-lines",
        """For more information, please contact:

In Geneva:
Claire Fontaine, Spokesperson: cfontaine@example.org, +41 78 123 45 67

In Nairobi:
David Otieno, Communications Manager: dotieno@example.org, 0712 123456 (WhatsApp)
""",
        None,
        [
            ("Claire Fontaine", "Geneva", ["cfontaine@example.org"], [("+41781234567", False)]),
            ("David Otieno", "Nairobi", ["dotieno@example.org"], [("+254712123456", True)]),
        ],
    ),
    (
        "markdown-bullets-and-links",
        """## Media contacts

- **Mariam Diallo**, Press Officer (Niamey): [mdiallo@example.org](mailto:mdiallo@example.org), [+227 93 12 34 56](tel:+22793123456) (WhatsApp)
- **Pieter de Vries**, Head of Media (The Hague): [pdevries@example.org](mailto:pdevries@example.org), +31 6 12345678
""",
        None,
        [
            ("Mariam Diallo", "Niamey", ["mdiallo@example.org"], [("+22793123456", True)]),
            ("Pieter de Vries", "The Hague", ["pdevries@example.org"], [("+31612345678", False)]),
        ],
    ),
    (
        "no-heading-one-block",
        """Sarah Cohen, Press Officer, New York: scohen@example.org, +1 (202) 555-0182
""",
        None,
        [("Sarah Cohen", "New York", ["scohen@example.org"], [("+12025550182", False)])],
    ),
    (
        "whatsapp-only-label",
        """Media contact:
In Ouagadougou: Issa Ouédraogo, Communication Officer: iouedraogo@example.org, 70 12 34 56 WhatsApp only
""",
        None,
        [("Issa Ouédraogo", "Ouagadougou", ["iouedraogo@example.org"], [("+22670123456", True)])],
    ),
    (
        "signal-label-not-whatsapp",
        """Press contact:
Lena Vogel, Media Adviser, The Hague: lvogel@example.org, +31 6 12345678 (Signal)
""",
        None,
        [("Lena Vogel", "The Hague", ["lvogel@example.org"], [("+31612345678", False)])],
    ),
    (
        "trunk-zero-in-brackets",
        """For further information:
Pieter de Vries, Head of Media, The Hague: pdevries@example.org, +31 (0)6 12345678 (WhatsApp), +31 (0)10 123 4567 (office)
""",
        None,
        [
            (
                "Pieter de Vries",
                "The Hague",
                ["pdevries@example.org"],
                [("+31612345678", True), ("+31101234567", False)],
            )
        ],
    ),
    (
        "heading-and-notes-to-editors",
        """The report is available online.

For more information:
Mariam Diallo, Press Officer, Niamey: mdiallo@example.org, +227 93 12 34 56

Notes to editors
The organisation works in 20 countries. Call +1 202 555 0100 for general enquiries.
""",
        None,
        [("Mariam Diallo", "Niamey", ["mdiallo@example.org"], [("+22793123456", False)])],
    ),
    (
        "french-several-numbers-ou",
        """Contacts médias :
À Bamako : Kadiatou Coulibaly, chargée de communication : kcoulibaly@example.org, 65 01 23 45 ou 20 21 23 45
""",
        None,
        [
            (
                "Kadiatou Coulibaly",
                "Bamako",
                ["kcoulibaly@example.org"],
                [("+22365012345", False), ("+22320212345", False)],
            )
        ],
    ),
    (
        "french-la-haye",
        """Pour plus d'informations :
À La Haye : Julien Marchetti, porte-parole : jmarchetti@example.org, Tél. : +33 (0)1 23 45 67 89, WhatsApp : +33 6 12 34 56 78
""",
        None,
        [
            (
                "Julien Marchetti",
                "La Haye",
                ["jmarchetti@example.org"],
                [("+33123456789", False), ("+33612345678", True)],
            )
        ],
    ),
    (
        "uk-national-from-london",
        """Media enquiries:
Tom Hughes, Press Officer, London: thughes@example.org, 07400 123456
""",
        None,
        [("Tom Hughes", "London", ["thughes@example.org"], [("+447400123456", False)])],
    ),
    (
        "fallback-region",
        """Media contact:
Grace Mensah, Regional Communications Lead: gmensah@example.org, 0712 123456
""",
        "KE",
        [("Grace Mensah", "", ["gmensah@example.org"], [("+254712123456", False)])],
    ),
    (
        "no-region-no-country-code",
        """Media contact:
Grace Mensah, Regional Communications Lead: gmensah@example.org, 0712 123456
""",
        None,
        [("Grace Mensah", "", ["gmensah@example.org"], [(None, False)])],
    ),
    (
        "placeholder-number-kept-invalid",
        """For more information:
In Niamey: Abdou Garba, Logistics Spokesperson: agarba@example.org, (+227) 20 72 xx xx
""",
        None,
        [("Abdou Garba", "Niamey", ["agarba@example.org"], [(None, False)])],
    ),
    (
        "extension-poste",
        """Contact presse
Mariam Diallo, chargée de presse, Niamey : mdiallo@example.org, +227 20 20 12 34 poste 215
""",
        None,
        [("Mariam Diallo", "Niamey", ["mdiallo@example.org"], [("+22720201234", False)])],
    ),
    (
        "us-wa-label-fixed-or-mobile",
        """Media contacts:
In Washington: Daniel Brooks, Senior Media Officer: dbrooks@example.org, +1.202.555.0161 (WhatsApp)
""",
        None,
        [("Daniel Brooks", "Washington", ["dbrooks@example.org"], [("+12025550161", True)])],
    ),
    (
        "name-role-parentheses",
        """Press contacts:
Aminata Sow (Communications Officer, Nouakchott): asow@example.org, 22 12 34 56
""",
        None,
        [("Aminata Sow", "Nouakchott", ["asow@example.org"], [("+22222123456", False)])],
    ),
    (
        "multi-line-phone-first",
        """Media contact

Moussa Traoré
Head of Communication, Bamako
+223 65 01 23 45 (WhatsApp)
+223 20 21 23 45
mtraore@example.org
""",
        None,
        [
            (
                "Moussa Traoré",
                "Bamako",
                ["mtraore@example.org"],
                [("+22365012345", True), ("+22320212345", False)],
            )
        ],
    ),
    (
        "two-emails",
        """For media inquiries:
Nadia Benali, Press Officer, Paris: nbenali@example.org / press@example.org, +33 6 12 34 56 78
""",
        None,
        [
            (
                "Nadia Benali",
                "Paris",
                ["nbenali@example.org", "press@example.org"],
                [("+33612345678", False)],
            )
        ],
    ),
    (
        "colon-before-details-only",
        """Media contacts
Geneva: Claire Fontaine, Spokesperson, cfontaine@example.org, +41 21 234 56 78
""",
        None,
        [("Claire Fontaine", "Geneva", ["cfontaine@example.org"], [("+41212345678", False)])],
    ),
    (
        "dash-separated-role",
        """Contacts presse :
Hadiza Souley – Chargée de communication – Niamey – hsouley@example.org – +227 93 12 34 56 (WhatsApp)
""",
        None,
        [("Hadiza Souley", "Niamey", ["hsouley@example.org"], [("+22793123456", True)])],
    ),
    (
        "cell-label-and-fax",
        """For more information:
Rebecca Stone
Media Relations Manager
New York
Cell: +1 202 555 0134
Fax: +1 202 555 0135
rstone@example.org
""",
        None,
        [
            (
                "Rebecca Stone",
                "New York",
                ["rstone@example.org"],
                [("+12025550134", False), ("+12025550135", False)],
            )
        ],
    ),
    (
        "three-people-mixed",
        """Media contacts:
In Niamey: Mariam Diallo, Press Officer: mdiallo@example.org, 93 12 34 56 (WhatsApp)
In Bamako: Boubacar Keita, Communication Officer: bkeita@example.org, 65 01 23 45
In The Hague: Pieter de Vries, Head of Media: pdevries@example.org, 06 12345678
""",
        None,
        [
            ("Mariam Diallo", "Niamey", ["mdiallo@example.org"], [("+22793123456", True)]),
            ("Boubacar Keita", "Bamako", ["bkeita@example.org"], [("+22365012345", False)]),
            ("Pieter de Vries", "The Hague", ["pdevries@example.org"], [("+31612345678", False)]),
        ],
    ),
    (
        "whatsapp-prefix-label",
        """Media contact:
In N'Djamena: Achta Mahamat, Communication Officer: amahamat@example.org, WhatsApp: 63 01 23 45, office: 22 50 12 34
""",
        None,
        [
            (
                "Achta Mahamat",
                "N'Djamena",
                ["amahamat@example.org"],
                [("+23563012345", True), ("+23522501234", False)],
            )
        ],
    ),
    (
        "labels-on-their-own-lines-french",
        """Contact médias

Aminata Ouédraogo
Chargée de presse
Ouagadougou
Portable / WhatsApp : 70 12 34 56
Bureau : 20 49 12 34
Courriel : aouedraogo@example.org
""",
        None,
        [
            (
                "Aminata Ouédraogo",
                "Ouagadougou",
                ["aouedraogo@example.org"],
                [("+22670123456", True), ("+22620491234", False)],
            )
        ],
    ),
]
