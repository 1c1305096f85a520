"""More contact blocks, in the shapes issue 15 lists, in the house styles of humanitarian,
UN, rights and wire releases and in English, French, Spanish, German, Portuguese, Norwegian
and Italian. Same shape as `extract_cases.CASES`, with the role as a fifth element of each
person (None: not checked). A desk is a person whose name is None.

Every person, address and number is invented: numbers are phonenumbers' example numbers
(`example_number_for_type`) and the US 555-01xx range.
"""

from __future__ import annotations

Person = tuple[str | None, str, list[str], list[tuple[str | None, bool]], str | None]

MORE: list[tuple[str, str, str | None, list[Person]]] = [
    # Entries without a person -------------------------------------------------------------
    (
        "desk-one-line",
        "Media contacts:\nMedia desk: press@example.org, +41 21 234 56 78\n",
        None,
        [(None, "", ["press@example.org"], [("+41212345678", False)], "Media desk")],
    ),
    (
        "desk-24-7-and-person",
        """For further information:
Press office (24/7): +41 78 123 45 67
Anna Berg, Spokesperson, Geneva: aberg@example.org, +41 21 234 56 78
""",
        None,
        [
            (None, "", [], [("+41781234567", False)], "Press office (24/7)"),
            (
                "Anna Berg",
                "Geneva",
                ["aberg@example.org"],
                [("+41212345678", False)],
                "Spokesperson",
            ),
        ],
    ),
    (
        "newsroom-multi-line",
        """Media enquiries

Newsroom
Tel: +44 121 234 5678
Email: newsroom@example.org
""",
        None,
        [(None, "", ["newsroom@example.org"], [("+441212345678", False)], "Newsroom")],
    ),
    (
        "service-de-presse",
        """Contacts presse :
Service de presse : presse@example.org, +33 1 23 45 67 89
""",
        None,
        [(None, "", ["presse@example.org"], [("+33123456789", False)], "Service de presse")],
    ),
    (
        "pressestelle-german",
        """Pressekontakt:
Pressestelle: presse@example.de, +49 30 123456
Dr. Karin Vogel, Pressesprecherin: kvogel@example.de, +49 1512 3456789
""",
        None,
        [
            (None, "", ["presse@example.de"], [("+4930123456", False)], "Pressestelle"),
            (
                "Karin Vogel",
                "",
                ["kvogel@example.de"],
                [("+4915123456789", False)],
                "Pressesprecherin",
            ),
        ],
    ),
    # Where the block starts ---------------------------------------------------------------
    (
        "two-headings-final-run",
        """The report is published today.

For further information

In Niamey: Mariam Diallo, mdiallo@example.org, +227 93 12 34 56

Media contacts

In The Hague: Pieter de Vries, pdevries@example.org, +31 10 123 4567
""",
        None,
        [
            ("Mariam Diallo", "Niamey", ["mdiallo@example.org"], [("+22793123456", False)], None),
            (
                "Pieter de Vries",
                "The Hague",
                ["pdevries@example.org"],
                [("+31101234567", False)],
                None,
            ),
        ],
    ),
    (
        "heading-in-body-prose-earlier",
        """Media contacts in the region say access is worse than ever. Aid workers describe
checkpoints and closed roads across the north.

For more information:
Ousmane Abdou, oabdou@example.org, +227 93 12 34 56
""",
        None,
        [("Ousmane Abdou", "", ["oabdou@example.org"], [("+22793123456", False)], None)],
    ),
    (
        "pour-plus-et-contacts-presse",
        """Pour plus d'informations, veuillez contacter :

Contacts presse
À Dakar : Fatou Sarr, chargée de communication, fsarr@example.org, +221 70 123 45 67 (WhatsApp)
À Bamako : Moussa Keïta, mkeita@example.org, +223 65 01 23 45
""",
        None,
        [
            (
                "Fatou Sarr",
                "Dakar",
                ["fsarr@example.org"],
                [("+221701234567", True)],
                "chargée de communication",
            ),
            ("Moussa Keïta", "Bamako", ["mkeita@example.org"], [("+22365012345", False)], None),
        ],
    ),
    (
        "kontakt-heading",
        """Kontakt:
Jonas Weber, Medienreferent, jweber@example.de, Tel. 030 123456
""",
        "DE",
        [("Jonas Weber", "", ["jweber@example.de"], [("+4930123456", False)], "Medienreferent")],
    ),
    # Several people on one line -----------------------------------------------------------
    (
        "semicolon-two-people",
        "Media contacts: Jane Roe, +33 6 12 34 56 78; John Doe, +1 201-555-0123\n",
        None,
        [
            ("Jane Roe", "", [], [("+33612345678", False)], None),
            ("John Doe", "", [], [("+12015550123", False)], None),
        ],
    ),
    (
        "pipe-two-cities",
        "Press contacts: In Geneva: Anna Berg, aberg@example.org | In Nairobi: Peter Otieno, +254 712 123456\n",
        None,
        [
            ("Anna Berg", "Geneva", ["aberg@example.org"], [], None),
            ("Peter Otieno", "Nairobi", [], [("+254712123456", False)], None),
        ],
    ),
    (
        "one-after-another",
        "Media contacts:\nAmadou Diallo +221 77 123 45 67 Fatou Sarr +221 70 123 45 67\n",
        None,
        [
            ("Amadou Diallo", "", [], [("+221771234567", False)], None),
            ("Fatou Sarr", "", [], [("+221701234567", False)], None),
        ],
    ),
    (
        "french-ou",
        "Contacts presse : Marie Dupont, +33 6 12 34 56 78 ou Luc Martin, +33 1 23 45 67 89\n",
        None,
        [
            ("Marie Dupont", "", [], [("+33612345678", False)], None),
            ("Luc Martin", "", [], [("+33123456789", False)], None),
        ],
    ),
    (
        "norwegian-og",
        "Pressekontakter: Kari Nordmann, +47 406 12 345 og Ola Hansen, +47 21 23 45 67\n",
        None,
        [
            ("Kari Nordmann", "", [], [("+4740612345", False)], None),
            ("Ola Hansen", "", [], [("+4721234567", False)], None),
        ],
    ),
    (
        "spanish-o-emails",
        "Contacto de prensa: Lucía Pérez, lperez@example.org o Carlos Ruiz, cruiz@example.org\n",
        None,
        [
            ("Lucía Pérez", "", ["lperez@example.org"], [], None),
            ("Carlos Ruiz", "", ["cruiz@example.org"], [], None),
        ],
    ),
    # People inside prose ------------------------------------------------------------------
    (
        "prose-head-of-news",
        "For more information, please contact Head of News Jane Roe on +44 121 234 5678.\n",
        None,
        [("Jane Roe", "", [], [("+441212345678", False)], "Head of News")],
    ),
    (
        "prose-contact-at",
        "Media contacts\nContact: John Smith at jsmith@example.org\n",
        None,
        [("John Smith", "", ["jsmith@example.org"], [], None)],
    ),
    (
        "prose-veuillez-contacter",
        "Pour plus d'informations, veuillez contacter Marie Dupont au +227 93 12 34 56.\n",
        None,
        [("Marie Dupont", "", [], [("+22793123456", False)], None)],
    ),
    (
        "prose-spokesperson-in-city",
        "Media contacts:\nFor interviews, reach our spokesperson in Bamako, Amadou Traoré, at atraore@example.org or +223 65 01 23 45.\n",
        None,
        [
            (
                "Amadou Traoré",
                "Bamako",
                ["atraore@example.org"],
                [("+22365012345", False)],
                "spokesperson",
            )
        ],
    ),
    # Names --------------------------------------------------------------------------------
    (
        "honorifics-and-capitals",
        """Media contacts
Ms Jane ROE, Head of News: jroe@example.org
Mme Aminata TOURÉ, porte-parole : atoure@example.org
Dr. Ibrahim Ould Ahmed, Regional Director: iahmed@example.org
""",
        None,
        [
            ("Jane Roe", "", ["jroe@example.org"], [], "Head of News"),
            ("Aminata Touré", "", ["atoure@example.org"], [], "porte-parole"),
            ("Ibrahim Ould Ahmed", "", ["iahmed@example.org"], [], "Regional Director"),
        ],
    ),
    (
        "particles-and-hyphens",
        """Press contacts:
Hannah van der Berg – Press Officer – hvdberg@example.org
Fatima Bint Salem (Media Adviser): fbsalem@example.org
Jean-Baptiste Kaboré-Ouédraogo, Communication Officer: jbko@example.org
""",
        None,
        [
            ("Hannah van der Berg", "", ["hvdberg@example.org"], [], "Press Officer"),
            ("Fatima Bint Salem", "", ["fbsalem@example.org"], [], "Media Adviser"),
            (
                "Jean-Baptiste Kaboré-Ouédraogo",
                "",
                ["jbko@example.org"],
                [],
                "Communication Officer",
            ),
        ],
    ),
    (
        "role-before-name",
        """Media contacts:
Spokesperson: Peter Otieno, potieno@example.org, +254 712 123456
""",
        None,
        [("Peter Otieno", "", ["potieno@example.org"], [("+254712123456", False)], None)],
    ),
    # Labels -------------------------------------------------------------------------------
    (
        "skype-is-no-name",
        """Media contact
Grace Mensah, Communications Manager
Skype: grace.mensah.press
Mob.: +44 7400 123456
Email: gmensah@example.org
""",
        None,
        [
            (
                "Grace Mensah",
                "",
                ["gmensah@example.org"],
                [("+447400123456", False)],
                "Communications Manager",
            )
        ],
    ),
    (
        "whatsapp-only-after",
        "Media contacts:\nPeter Otieno: +254 712 123456 (WhatsApp only), potieno@example.org\n",
        None,
        [("Peter Otieno", "", ["potieno@example.org"], [("+254712123456", True)], None)],
    ),
    (
        "tel-portable-french",
        """Contact presse :
Aïcha Diop, chargée de presse
Tél. : +221 30 101 23 45
Portable : +221 70 123 45 67
Courriel : adiop@example.org
""",
        None,
        [
            (
                "Aïcha Diop",
                "",
                ["adiop@example.org"],
                [("+221301012345", False), ("+221701234567", False)],
                "chargée de presse",
            )
        ],
    ),
    (
        "e-post-norwegian",
        """Pressekontakt:
Kari Nordmann, kommunikasjonsrådgiver
Mobil: +47 406 12 345
E-post: knordmann@example.no
""",
        None,
        [("Kari Nordmann", "", ["knordmann@example.no"], [("+4740612345", False)], None)],
    ),
    # Numbers ------------------------------------------------------------------------------
    (
        "two-numbers-or",
        "Media contacts:\nSarah Cohen, scohen@example.org, +33 6 12 34 56 78 or +33 1 23 45 67 89\n",
        None,
        [
            (
                "Sarah Cohen",
                "",
                ["scohen@example.org"],
                [("+33612345678", False), ("+33123456789", False)],
                None,
            )
        ],
    ),
    (
        "extension-poste",
        "Contact presse :\nLuc Martin : lmartin@example.org, +33 1 23 45 67 89 poste 215\n",
        None,
        [("Luc Martin", "", ["lmartin@example.org"], [("+33123456789", False)], None)],
    ),
    (
        "wrongly-printed-number",
        "Media contacts:\nAnna Berg, aberg@example.org, +41 21 234 56\n",
        None,
        [("Anna Berg", "", ["aberg@example.org"], [(None, False)], None)],
    ),
    (
        "german-slash-area-code",
        "Pressekontakt:\nJonas Weber, jweber@example.de, Tel.: 030/123456\n",
        "DE",
        [("Jonas Weber", "", ["jweber@example.de"], [("+4930123456", False)], None)],
    ),
    (
        "austrian-plusplus",
        "Pressekontakt:\nLisa Huber, lhuber@example.at, Tel. (++43-1) 234567890\n",
        None,
        [("Lisa Huber", "", ["lhuber@example.at"], [("+431234567890", False)], None)],
    ),
    (
        "swiss-plus-zero",
        "Medienkontakt:\nReto Keller, rkeller@example.ch, (+41) 021 234 56 78\n",
        None,
        [("Reto Keller", "", ["rkeller@example.ch"], [("+41212345678", False)], None)],
    ),
    (
        "brazil-format",
        "Contato para imprensa: Ana Souza, asouza@example.org, +55 (11) 96123-4567\n",
        None,
        [("Ana Souza", "", ["asouza@example.org"], [("+5511961234567", False)], None)],
    ),
    (
        "swiss-apostrophes",
        "Medienkontakt:\nReto Keller, rkeller@example.ch, +41 21 234'56'78\n",
        None,
        [("Reto Keller", "", ["rkeller@example.ch"], [("+41212345678", False)], None)],
    ),
    (
        "number-broken-across-lines",
        "Media contacts:\nAnna Berg, aberg@example.org, Tel. +41 78\n123 45 67\n",
        None,
        [("Anna Berg", "", ["aberg@example.org"], [("+41781234567", False)], None)],
    ),
    (
        "austrian-dash-extension",
        "Pressekontakt:\nLisa Huber, lhuber@example.at, Tel. 01 234567890-12\n",
        "AT",
        [("Lisa Huber", "", ["lhuber@example.at"], [("+431234567890", False)], None)],
    ),
    (
        "signal-00-prefix-x-extension",
        """Media contacts
Daniel Ortiz, Press Officer
Signal: 0044 7400 123456
Office: +1 201-555-0123 x12
Email: dortiz@example.org
""",
        None,
        [
            (
                "Daniel Ortiz",
                "",
                ["dortiz@example.org"],
                [("+447400123456", False), ("+12015550123", False)],
                "Press Officer",
            )
        ],
    ),
    (
        "hidden-address-placeholder",
        "Media contacts:\nAnna Berg, [email protected], +41 78 123 45 67\n",
        None,
        [("Anna Berg", "", [], [("+41781234567", False)], None)],
    ),
    # Look-alikes --------------------------------------------------------------------------
    (
        "iban-and-donations",
        """Media contacts:
Anna Berg, aberg@example.org, +41 78 123 45 67

Donations: IBAN CH93 0076 2011 6238 5295 7
Donation hotline: +41 21 234 56 78
""",
        None,
        [("Anna Berg", "", ["aberg@example.org"], [("+41781234567", False)], None)],
    ),
    (
        "fax-kept-not-whatsapp",
        """Media contact:
Pieter de Vries
Tel: +31 10 123 4567
Fax: +31 10 123 4568
Email: pdevries@example.org
""",
        None,
        [
            (
                "Pieter de Vries",
                "",
                ["pdevries@example.org"],
                [("+31101234567", False), ("+31101234568", False)],
                None,
            )
        ],
    ),
    (
        "postbox-not-a-number",
        """Contact presse :
Moussa Keïta, mkeita@example.org, +223 65 01 23 45
BP 1234 Bamako
""",
        None,
        [("Moussa Keïta", "", ["mkeita@example.org"], [("+22365012345", False)], None)],
    ),
    # Obfuscated addresses and links -------------------------------------------------------
    (
        "obfuscated-at-dot",
        "Media contacts:\nJane Roe, Spokesperson: jroe (at) example (dot) org, +44 7400 123456\n",
        None,
        [("Jane Roe", "", ["jroe@example.org"], [("+447400123456", False)], "Spokesperson")],
    ),
    (
        "obfuscated-brackets",
        "Contacts presse : Marie Dupont, mdupont [at] example [dot] org\n",
        None,
        [("Marie Dupont", "", ["mdupont@example.org"], [], None)],
    ),
    (
        "wa-me-link",
        "Media contacts:\nPeter Otieno, potieno@example.org, WhatsApp: https://wa.me/254712123456\n",
        None,
        [("Peter Otieno", "", ["potieno@example.org"], [("+254712123456", True)], None)],
    ),
    # Cities and offices as written --------------------------------------------------------
    (
        "city-dash",
        """Media contacts
Geneva – Anna Berg, aberg@example.org, +41 78 123 45 67
Nairobi – Peter Otieno, potieno@example.org, +254 712 123456
""",
        None,
        [
            ("Anna Berg", "Geneva", ["aberg@example.org"], [("+41781234567", False)], None),
            ("Peter Otieno", "Nairobi", ["potieno@example.org"], [("+254712123456", False)], None),
        ],
    ),
    (
        "city-in-brackets",
        """Press contacts:
Fatou Sarr (Dakar): fsarr@example.org, 70 123 45 67
""",
        None,
        [("Fatou Sarr", "Dakar", ["fsarr@example.org"], [("+221701234567", False)], None)],
    ),
    # House styles -------------------------------------------------------------------------
    (
        "wire-style-ends",
        """ENDS

Media contacts: Sarah Cohen, scohen@example.org, +1 201-555-0123
""",
        None,
        [("Sarah Cohen", "", ["scohen@example.org"], [("+12015550123", False)], None)],
    ),
    (
        "un-style-for-information",
        """For more information, please contact:
Peter Otieno, OCHA-style Public Information Officer, Nairobi, potieno@example.org, +254 712 123456
""",
        None,
        [("Peter Otieno", "Nairobi", ["potieno@example.org"], [("+254712123456", False)], None)],
    ),
    (
        "rights-style-24h",
        """For more information or to arrange an interview, contact:
Press office, London: +44 121 234 5678 (24 hours), press@example.org
""",
        None,
        [(None, "", ["press@example.org"], [("+441212345678", False)], None)],
    ),
    (
        "italian-ufficio-stampa",
        """Contatti stampa:
Ufficio stampa: stampa@example.it, +39 02 1234 5678
Giulia Rossi, grossi@example.it, +39 312 345 6789
""",
        None,
        [
            (None, "", ["stampa@example.it"], [("+390212345678", False)], "Ufficio stampa"),
            ("Giulia Rossi", "", ["grossi@example.it"], [("+393123456789", False)], None),
        ],
    ),
    (
        "spanish-oficina",
        """Para más información:
Oficina de prensa: prensa@example.org, +34 810 12 34 56
Lucía Pérez, portavoz, lperez@example.org, +34 612 34 56 78
""",
        None,
        [
            (None, "", ["prensa@example.org"], [("+34810123456", False)], "Oficina de prensa"),
            ("Lucía Pérez", "", ["lperez@example.org"], [("+34612345678", False)], None),
        ],
    ),
    (
        "portuguese-assessoria",
        """Contato para imprensa:
Assessoria de imprensa: imprensa@example.org
João Silva, jsilva@example.org, +351 912 345 678
""",
        None,
        [
            (None, "", ["imprensa@example.org"], [], "Assessoria de imprensa"),
            ("João Silva", "", ["jsilva@example.org"], [("+351912345678", False)], None),
        ],
    ),
    # Nordic, German and Dutch house styles, and what sits beside them -----------------------
    (
        "swedish-presskontakt-lines",
        """Presskontakt:
Lisa Andersson
Kommunikationschef
Telefon: 08-12 34 56
Mobil: 070-123 45 67
E-post: lisa.andersson@example.se
Org.nr 802005-9047
Bankgiro 900-1234
""",
        "SE",
        [
            (
                "Lisa Andersson",
                "",
                ["lisa.andersson@example.se"],
                [("+468123456", False), ("+46701234567", False)],
                "Kommunikationschef",
            ),
        ],
    ),
    (
        "norwegian-one-line-with-labels",
        "For mer informasjon, kontakt:\nKari Nordmann, kommunikasjonsrådgiver, mobil: 40 61 23 45,"
        " e-post: kari@example.no\nStortingsgata 10\n0102 Oslo\nOrg.nr. 971 277 882\n",
        "NO",
        [
            (
                "Kari Nordmann",
                "",
                ["kari@example.no"],
                [("+4740612345", False)],
                "kommunikasjonsrådgiver",
            )
        ],
    ),
    (
        "danish-role-before-name",
        "Kontakt:\nPressechef Søren Nielsen\nMobil: +45 34 41 23 45\nE-mail: sn@example.dk\nCVR-nr. 12345678\n",
        "DK",
        [("Søren Nielsen", "", ["sn@example.dk"], [("+4534412345", False)], "Pressechef")],
    ),
    (
        "german-ruckfragen-titled-name",
        """Für Rückfragen wenden Sie sich bitte an:
Dr. Jonas Weber, Leiter Kommunikation, Telefon 030 123456, jonas.weber@example.de
Erreichbar Mo–Fr 09:00–17:00 Uhr, Stand 07.12.2026
Amtsgericht Berlin HRB 12345
""",
        "DE",
        [
            (
                "Jonas Weber",
                "",
                ["jonas.weber@example.de"],
                [("+4930123456", False)],
                "Leiter Kommunikation",
            ),
        ],
    ),
    (
        "dutch-prose-with-particle",
        "Noot voor de redactie, niet voor publicatie:\nVoor meer informatie kunt u contact opnemen"
        " met Jan de Vries, woordvoerder, via 06 12345678 of j.devries@example.nl.\n",
        "NL",
        [("Jan de Vries", "", ["j.devries@example.nl"], [("+31612345678", False)], "woordvoerder")],
    ),
    (
        "dutch-letter-labels",
        "Persvoorlichting\nSanne Bakker\nT: 010 123 4567\nM: 06 12345678\nE: s.bakker@example.nl\n"
        "Postbus 1234, 2501 AB Den Haag\nKvK 12345678\n",
        "NL",
        [
            (
                "Sanne Bakker",
                "",
                ["s.bakker@example.nl"],
                [("+31101234567", False), ("+31612345678", False)],
                None,
            ),
        ],
    ),
    (
        "italian-labels-between-numbers",
        "Info:\nUfficio stampa,\ntel. 02 1234 5678 - cell. 312 345 6789,\ne-mail: stampa@example.it\n",
        "IT",
        [
            (
                None,
                "",
                ["stampa@example.it"],
                [("+390212345678", False), ("+393123456789", False)],
                None,
            ),
        ],
    ),
    (
        "nordic-headings-with-the-person-after-the-colon",
        "Yderligere oplysninger: Mette Jensen, kommunikationschef, tlf. 32 12 34 56\n\n"
        "Mediehenvendelser:\nOla Hansen, kommunikasjonssjef, +47 40 61 23 45\n",
        "DK",
        [
            ("Mette Jensen", "", [], [("+4532123456", False)], "kommunikationschef"),
            ("Ola Hansen", "", [], [("+4740612345", False)], "kommunikasjonssjef"),
        ],
    ),
    (
        "german-ansprechpartnerin-one-line",
        "Ansprechpartnerin: Anna Schmidt | Tel. +49 30 123456 | anna@example.de\n",
        "DE",
        [("Anna Schmidt", "", ["anna@example.de"], [("+4930123456", False)], None)],
    ),
    (
        "swedish-kontaktpersoner-two-people",
        "Kontaktpersoner:\nErik Johansson, generalsekreterare, 070-123 45 67\n"
        "Lisa Andersson, pressekreterare, 08-12 34 56\n",
        "SE",
        [
            ("Erik Johansson", "", [], [("+46701234567", False)], "generalsekreterare"),
            ("Lisa Andersson", "", [], [("+468123456", False)], "pressekreterare"),
        ],
    ),
    (
        "hours-and-dates-beside-numbers",
        "For more information:\nAnna Berg, +41 21 234 56 78, available 24/7 until 15 December 2026\n"
        "John Roe, +1 201-555-0123 (9am-5pm EST, Mon-Fri)\n"
        "Anna Schmidt, Tel. 030 123456 (bis 17 Uhr, ab 7. Dezember 2026), Stand 07.12.2026\n",
        "DE",
        [
            ("Anna Berg", "", [], [("+41212345678", False)], None),
            ("John Roe", "", [], [("+12015550123", False)], None),
            ("Anna Schmidt", "", [], [("+4930123456", False)], None),
        ],
    ),
    (
        "role-line-above-the-name",
        "Pressekontakt:\nPressesprecherin\nAnna Schmidt\nTelefon: 030 123456\nE-Mail: anna@example.de\n",
        "DE",
        [("Anna Schmidt", "", ["anna@example.de"], [("+4930123456", False)], "Pressesprecherin")],
    ),
    (
        "a-word-after-a-number-is-no-month",
        "Contact presse :\nMarie Dupont, +33 6 12 34 56 78 mail : marie@example.fr\n",
        None,
        [("Marie Dupont", "", ["marie@example.fr"], [("+33612345678", False)], None)],
    ),
    (
        "prose-two-people-with-offices-in-brackets",
        "For further information, please contact Anna Berg (Geneva) on +41 21 234 56 78 or"
        " Piet de Boer (The Hague) on +31 6 12345678. For interviews, contact Jane Roe"
        " (English, French) on +44 7400 123456.\n",
        None,
        [
            ("Anna Berg", "Geneva", [], [("+41212345678", False)], None),
            ("Piet de Boer", "The Hague", [], [("+31612345678", False)], None),
            ("Jane Roe", "", [], [("+447400123456", False)], None),
        ],
    ),
]
