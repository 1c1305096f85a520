"""The preference page a journalist opens from any of our messages: what they receive
(language, topics, offices and countries, how often, embargoed material), one-click
unsubscribe, and who holds their data and why. Served by the unsubscribe server
(`serve.py`) behind the same sealed token; GET shows, only POST changes.

Plain HTML forms: no script, nothing from elsewhere, every value escaped; laid out in one
column that fits a 390 px phone. English and French.
"""

from __future__ import annotations

import html

from babel import Locale

from civic_contacts.registry.preferences import MAX_WEEKLY, Choices, Offered

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "title": "What you receive from {organisation}",
        "for": "Choices for {address}.",
        "saved": "Your choices are saved. They apply to the next release we send.",
        "language": "Language of our messages",
        "language.label": "Send me releases in",
        "language.outlet": "the language my outlet publishes in",
        "also": "I also read:",
        "topics": "Topics I cover",
        "topics.hint": "None ticked: releases on every topic.",
        "follows": "Offices and countries I follow",
        "follows.hint": "None ticked: all of them.",
        "office": "our office in {city}",
        "often": "How often",
        "often.label": "At most this many releases in seven days (empty: no limit)",
        "embargo": "Embargoed material",
        "embargo.label": "Send me releases under embargo, before they are public",
        "save": "Save my choices",
        "leave": "Unsubscribe from everything",
        "data": "Your data",
        "data.text": "{organisation} holds your name, work email address, outlet, role and work"
        " phone numbers on its media list, to send you its press releases. It does so under its"
        " legitimate interest in informing the press about its work (GDPR Article 6(1)(f))."
        " You may object at any time: unsubscribing stops every message at once, for good.",
        "data.contact": " To see everything we hold about you, or to have it erased, write to"
        " {contact}.",
        "unknown.title": "We hold no choices for this address",
        "unknown": "This address is not on our media list any more. You can still make sure we"
        " never write to it.",
        "left.title": "You are unsubscribed",
        "left": "We send nothing to {address}. To receive our releases again, write to us.",
    },
    "fr": {
        "title": "Ce que vous recevez de {organisation}",
        "for": "Choix pour {address}.",
        "saved": "Vos choix sont enregistrés. Ils s\u2019appliquent au prochain communiqué.",
        "language": "Langue de nos messages",
        "language.label": "M\u2019envoyer les communiqués en",
        "language.outlet": "la langue de publication de mon média",
        "also": "Je lis aussi\u00a0:",
        "topics": "Thèmes que je couvre",
        "topics.hint": "Aucun coché\u00a0: les communiqués sur tous les thèmes.",
        "follows": "Bureaux et pays que je suis",
        "follows.hint": "Aucun coché\u00a0: tous.",
        "office": "notre bureau de {city}",
        "often": "Fréquence",
        "often.label": "Au plus ce nombre de communiqués en sept jours (vide\u00a0: sans limite)",
        "embargo": "Communiqués sous embargo",
        "embargo.label": "M\u2019envoyer les communiqués sous embargo, avant leur publication",
        "save": "Enregistrer mes choix",
        "leave": "Me désinscrire de tout",
        "data": "Vos données",
        "data.text": "{organisation} conserve votre nom, votre adresse électronique"
        " professionnelle, votre média, votre fonction et vos numéros professionnels sur sa"
        " liste médias, pour vous envoyer ses communiqués de presse. Elle le fait au titre de"
        " son intérêt légitime à informer la presse de son action (RGPD, article 6, 1, f)."
        " Vous pouvez vous y opposer à tout moment\u00a0: la désinscription arrête tout envoi,"
        " immédiatement et définitivement.",
        "data.contact": " Pour connaître tout ce que nous détenons sur vous, ou le faire"
        " effacer, écrivez à {contact}.",
        "unknown.title": "Aucun choix enregistré pour cette adresse",
        "unknown": "Cette adresse ne figure plus sur notre liste médias. Vous pouvez tout de"
        " même vous assurer que nous ne lui écrirons jamais.",
        "left.title": "Vous êtes désinscrit",
        "left": "Nous n\u2019envoyons rien à {address}. Pour recevoir de nouveau nos"
        " communiqués, écrivez-nous.",
    },
}

STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:24px auto;"
    "padding:0 16px;line-height:1.45;color:#1a1a1a}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px}"
    "fieldset{border:1px solid #bbb;border-radius:6px;margin:16px 0;padding:8px 12px}"
    "legend{font-weight:bold;padding:0 4px}"
    "label{display:block;margin:6px 0}"
    "select,input[type=number]{font-size:16px;padding:6px;max-width:100%}"
    "button{font-size:16px;padding:10px 14px;margin:8px 8px 8px 0;border-radius:6px;"
    "border:1px solid #555;background:#f2f2f2;color:#1a1a1a}"
    "button.primary{background:#0b5394;border-color:#0b5394;color:#fff}"
    ".note{background:#e6f4ea;padding:8px 12px;border-radius:6px}"
    ".error{background:#fde8e8;padding:8px 12px;border-radius:6px}"
    ".hint{color:#555;font-size:14px;margin:4px 0}"
)


def say(language: str, key: str, **values: str) -> str:
    """One sentence of wording with its values escaped."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return html.escape(WORDING[language][key]).format(**escaped)


def document(language: str, title: str, body: str) -> bytes:
    """A whole page."""
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    ).encode()


def _language_name(code: str, language: str) -> str:
    try:
        name = Locale(language).languages.get(code.split("-")[0])
    except (ValueError, TypeError):
        name = None
    return name or code


def _country_name(code: str, language: str) -> str:
    return Locale(language).territories.get(code) or code


def _label(labels: dict[str, str], code: str, language: str) -> str:
    return labels.get(language) or labels.get("en") or code


def _box(name: str, value: str, text: str, checked: bool) -> str:
    ident = f"{name}-{value}"
    return (
        f'<label for="{html.escape(ident, quote=True)}"><input type="checkbox"'
        f' id="{html.escape(ident, quote=True)}" name="{name}"'
        f' value="{html.escape(value, quote=True)}"{" checked" if checked else ""}> '
        f"{html.escape(text)}</label>"
    )


def _hidden(token: str, language: str) -> str:
    return (
        f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        f'<input type="hidden" name="lang" value="{language}">'
    )


def leave_form(language: str, token: str) -> str:
    """The one-click unsubscribe, alone."""
    return (
        f'<form method="post">{_hidden(token, language)}'
        f'<button type="submit" name="action" value="unsubscribe">{say(language, "leave")}'
        "</button></form>"
    )


def data_notice(language: str, organisation: str, contact: str) -> str:
    """Who holds the journalist's data, why, and how to object, see or erase it."""
    text = say(language, "data.text", organisation=organisation)
    if contact:
        text += say(language, "data.contact", contact=contact)
    return f"<h2>{say(language, 'data')}</h2><p>{text}</p>"


def choices_page(
    language: str,
    *,
    organisation: str,
    contact: str,
    address: str,
    token: str,
    offer: Offered,
    chosen: Choices,
    saved: bool = False,
    error: str = "",
) -> bytes:
    """The page with the journalist's choices as a form."""
    languages = list(offer.languages)
    if chosen.language and chosen.language not in languages:
        languages.append(chosen.language)
    options = [
        f'<option value=""{" selected" if chosen.language is None else ""}>'
        f"{say(language, 'language.outlet')}</option>"
    ] + [
        f'<option value="{html.escape(code, quote=True)}"'
        f"{' selected' if code == chosen.language else ''}>"
        f"{html.escape(_language_name(code, language))}</option>"
        for code in languages
    ]
    also = "".join(
        _box("also_reads", code, _language_name(code, language), code in chosen.also_reads)
        for code in languages
    )
    topics = "".join(
        _box("beats", code, _label(labels, code, language), code in chosen.beats)
        for code, labels in offer.topics
    )
    offices = "".join(
        _box(
            "follows",
            code,
            WORDING[language]["office"].format(city=_label(cities, city, language)),
            code in chosen.follows,
        )
        for code, city, cities in offer.offices
    )
    countries = "".join(
        _box("follows", code, _country_name(code, language), code in chosen.follows)
        for code in offer.countries
    )
    cap = "" if chosen.weekly_cap is None else str(chosen.weekly_cap)
    parts = [f"<p>{say(language, 'for', address=address)}</p>"]
    if saved:
        parts.append(f'<p class="note" role="status">{say(language, "saved")}</p>')
    if error:
        parts.append(f'<p class="error" role="alert">{html.escape(error)}</p>')
    parts.append(
        f'<form method="post">{_hidden(token, language)}'
        f"<fieldset><legend>{say(language, 'language')}</legend>"
        f'<label for="language">{say(language, "language.label")}</label>'
        f'<select id="language" name="language">{"".join(options)}</select>'
        f'<p class="hint">{say(language, "also")}</p>{also}</fieldset>'
    )
    if offer.topics:
        parts.append(
            f"<fieldset><legend>{say(language, 'topics')}</legend>"
            f'<p class="hint">{say(language, "topics.hint")}</p>{topics}</fieldset>'
        )
    parts.append(
        f"<fieldset><legend>{say(language, 'follows')}</legend>"
        f'<p class="hint">{say(language, "follows.hint")}</p>{offices}{countries}</fieldset>'
        f"<fieldset><legend>{say(language, 'often')}</legend>"
        f'<label for="weekly_cap">{say(language, "often.label")}</label>'
        f'<input type="number" id="weekly_cap" name="weekly_cap" min="1" max="{MAX_WEEKLY}"'
        f' inputmode="numeric" value="{cap}"></fieldset>'
        f"<fieldset><legend>{say(language, 'embargo')}</legend>"
        + _box(
            "accepts_embargoed", "yes", WORDING[language]["embargo.label"], chosen.accepts_embargoed
        )
        + "</fieldset>"
        f'<button class="primary" type="submit" name="action" value="save">'
        f"{say(language, 'save')}</button>"
        f'<button type="submit" name="action" value="unsubscribe">{say(language, "leave")}'
        "</button></form>"
    )
    parts.append(data_notice(language, organisation, contact))
    return document(language, say(language, "title", organisation=organisation), "".join(parts))


def unknown_page(language: str, organisation: str, contact: str, token: str) -> bytes:
    """A valid link for an address no longer on the list (removed or erased)."""
    body = f"<p>{say(language, 'unknown')}</p>" + leave_form(language, token)
    body += data_notice(language, organisation, contact)
    return document(language, say(language, "unknown.title"), body)


def unsubscribed_page(language: str, organisation: str, contact: str, address: str) -> bytes:
    """The page of someone who has unsubscribed: an objection is absolute, so no choices."""
    body = f"<p>{say(language, 'left', address=address)}</p>"
    body += data_notice(language, organisation, contact)
    return document(language, say(language, "left.title"), body)
