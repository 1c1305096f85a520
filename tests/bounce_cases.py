"""Invented reports in the shapes journalists' mail servers really send back, each with the
classification expected of it: delivery status notifications (Postfix, Sendmail, Exchange and
Office 365, Gmail, Outlook.com, Amazon SES), prose notices (Exim, qmail, Yahoo, French,
African, Spanish, Portuguese and German providers), feedback reports and auto-replies.

Every address and host is invented (example.com/.net/.org, 192.0.2.0/24). Each report answers
a message from `Press Office <press@example.org>` sent with the envelope sender
`bounces+<TOKEN>@example.org`. Used by tests/after/test_bounces.py and bench/bench_bounces.py.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN = "aaaabbbbccccdddd"  # the shape of a return-path token (verified elsewhere)
RETURN = f"bounces+{TOKEN}@example.org"
OUR_FROM = "Press Office <press@example.org>"
MSGID = "<sahel-civilians.x1@example.org>"


@dataclass(frozen=True)
class Expected:
    email: str
    action: str
    reason: str
    status: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    kind: str
    recipients: tuple[Expected, ...]


def _original(to: str, subject: str = "SOUS EMBARGO : Sahel : les civils") -> str:
    return (
        f"Return-Path: <{RETURN}>\n"
        f"From: {OUR_FROM}\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        f"Message-ID: {MSGID}\n"
        "Date: Tue, 01 Dec 2026 09:00:00 +0000\n"
        "MIME-Version: 1.0\n"
    )


def dsn(
    to: str,
    status: str,
    diagnostic: str,
    human: str,
    action: str = "failed",
    reporter: str = "mx.example.net",
    subject: str = "Undelivered Mail Returned to Sender",
    sender: str = "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
    original: str = "headers",
    extra_headers: str = "",
) -> bytes:
    """An RFC 3464 report: a human part, a delivery-status part, and the original (its
    headers, the whole message, or nothing)."""
    diag = f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else ""
    parts = [
        'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n' + human,
        "Content-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; {reporter}\nArrival-Date: Tue, 1 Dec 2026 09:00:01 +0000\n\n"
        f"Final-Recipient: rfc822; {to}\nOriginal-Recipient: rfc822;{to}\n"
        f"Action: {action}\nStatus: {status}\nRemote-MTA: dns; mx.{to.split('@')[1]}\n{diag}",
    ]
    if original == "headers":
        parts.append("Content-Type: text/rfc822-headers\n\n" + _original(to))
    elif original == "message":
        parts.append(
            "Content-Type: message/rfc822\n\n"
            + _original(to)
            + "\nContent-Type: text/plain\n\nBody\n"
        )
    body = "".join(f"--BOUNDARY\n{p}\n" for p in parts) + "--BOUNDARY--\n"
    return (
        f"From: {sender}\nTo: {RETURN}\nSubject: {subject}\n"
        "Date: Tue, 01 Dec 2026 09:00:02 +0000\nAuto-Submitted: auto-replied\n"
        f"Message-ID: <report.{abs(hash((to, status, diagnostic))) % 10**8}@{reporter}>\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\n\n'
        + body
    ).encode("utf-8")


def prose(
    text: str,
    subject: str,
    sender: str = "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
    copy_to: str | None = None,
    charset: str = "utf-8",
) -> bytes:
    """A failure notice in prose only, optionally followed by a copy of the original."""
    copy = (
        f"\n------ This is a copy of the message, including all the headers. ------\n{_original(copy_to)}\nBody\n"
        if copy_to
        else ""
    )
    return (
        f"From: {sender}\nTo: {RETURN}\nSubject: {subject}\n"
        "Date: Tue, 01 Dec 2026 09:00:02 +0000\nMIME-Version: 1.0\n"
        f'Content-Type: text/plain; charset="{charset}"\nContent-Transfer-Encoding: 8bit\n\n'
        + text
        + copy
    ).encode(charset)


def arf(
    feedback_type: str, rcpt: str | None, to: str, reporter: str = "feedback.example.net"
) -> bytes:
    """An RFC 5965 feedback report about one of our messages."""
    original_rcpt = f"Original-Rcpt-To: {rcpt}\n" if rcpt else ""
    return (
        f"From: complaints@{reporter}\nTo: {RETURN}\nSubject: Complaint about message from 192.0.2.25\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="FB"\n\n'
        "--FB\nContent-Type: text/plain\n\nThis is an email abuse report for an email message received on 1 Dec 2026.\n"
        "--FB\nContent-Type: message/feedback-report\n\n"
        f"Feedback-Type: {feedback_type}\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
        f"Original-Mail-From: <{RETURN}>\n{original_rcpt}Source-IP: 192.0.2.25\n"
        "--FB\nContent-Type: message/rfc822\n\n" + _original(to) + "\nBody\n--FB--\n"
    ).encode("utf-8")


def auto_reply(
    sender: str, subject: str, text: str, headers: str = "Auto-Submitted: auto-replied\n"
) -> bytes:
    """An auto-reply (RFC 3834 or a vacation program's) to one of our messages."""
    return (
        f"From: {sender}\nTo: {RETURN}\nSubject: {subject}\n"
        f"In-Reply-To: {MSGID}\nDate: Tue, 01 Dec 2026 09:05:00 +0000\n{headers}"
        'MIME-Version: 1.0\nContent-Type: text/plain; charset="utf-8"\n\n' + text
    ).encode("utf-8")


GMAIL_HUMAN = (
    "** Address not found **\n\nYour message wasn't delivered to {to} because the address"
    " couldn't be found, or is unable to receive mail.\n\nLearn more here:"
    " https://support.example.com/mail/answer/6596\n\nThe response from the remote server was:\n{diag}\n"
)
O365_HUMAN = (
    "Your message to {to} couldn't be delivered.\n{user} wasn't found at {domain}.\n\n"
    "Action Required\nRecipient\nUnknown To address\n\nDiagnostic information for administrators:\n"
    "Generating server: AM0PR01MB0001.eurprd01.prod.example.com\n{to}\n"
    "Remote Server returned '{diag}'\n"
)
POSTFIX_HUMAN = (
    "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your"
    " message could not\nbe delivered to one or more recipients. It's attached below.\n\n"
    "For further assistance, please send mail to postmaster.\n\nIf you do so, please include"
    " this problem report. You can\ndelete your own text from the attached returned message.\n\n"
    "                   The mail system\n\n<{to}>: host mx.{domain}[192.0.2.30] said: {diag}\n"
)


def gmail(to: str, status: str, diag: str, action: str = "failed") -> bytes:
    return dsn(
        to,
        status,
        diag,
        GMAIL_HUMAN.format(to=to, diag=diag),
        action=action,
        reporter="mx.google.example.com",
        subject="Delivery Status Notification (Failure)",
        sender="Mail Delivery Subsystem <mailer-daemon@google.example.com>",
    )


def o365(
    to: str, status: str, diag: str, subject: str = "Undeliverable: SOUS EMBARGO : Sahel"
) -> bytes:
    user, domain = to.split("@")
    return dsn(
        to,
        status,
        diag,
        O365_HUMAN.format(to=to, user=user, domain=domain, diag=diag),
        reporter="AM0PR01MB0001.eurprd01.prod.example.com",
        subject=subject,
        sender="Microsoft Outlook <postmaster@outlook.example.com>",
        original="message",
    )


def postfix(
    to: str,
    status: str,
    diag: str,
    action: str = "failed",
    subject: str = "Undelivered Mail Returned to Sender",
) -> bytes:
    domain = to.split("@")[1]
    return dsn(
        to,
        status,
        diag,
        POSTFIX_HUMAN.format(to=to, domain=domain, diag=diag),
        action=action,
        subject=subject,
    )


def exim(to: str, error: str, permanent: bool = True) -> bytes:
    kind = "This is a permanent error." if permanent else "This is a temporary error."
    return prose(
        "This message was created automatically by mail delivery software.\n\n"
        f"A message that you sent could not be delivered to one or more of its\nrecipients. {kind} The following address(es) failed:\n\n"
        f"  {to}\n    host mx.{to.split('@')[1]} [192.0.2.40]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{to}>:\n    {error}\n",
        "Mail delivery failed: returning message to sender",
        copy_to=to,
    )


def qmail(to: str, error: str) -> bytes:
    return prose(
        "Hi. This is the qmail-send program at mail.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{to}>:\n{error}\n\n--- Below this line is a copy of the message.\n\n" + _original(to),
        "failure notice",
        sender="MAILER-DAEMON@mail.example.net",
    )


def _e(email: str, action: str, reason: str, status: str | None = None) -> tuple[Expected, ...]:
    return (Expected(email, action, reason, status),)


CASES: list[Case] = [
    # Address gone: suppress ---------------------------------------------------------------
    Case(
        "postfix-user-unknown",
        postfix(
            "amina.sow@example.com",
            "5.1.1",
            "550 5.1.1 <amina.sow@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
        ),
        "bounce",
        _e("amina.sow@example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "postfix-no-such-domain",
        postfix(
            "old.desk@defunct-daily.example.net",
            "5.4.4",
            "Host or domain name not found. Name service error for name=defunct-daily.example.net type=A: Host not found",
        ),
        "bounce",
        _e("old.desk@defunct-daily.example.net", "suppress", "no-such-domain", "5.4.4"),
    ),
    Case(
        "gmail-no-such-user",
        gmail(
            "k.traore@example.com",
            "5.1.1",
            "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. 550 5.1.1 https://support.example.com/mail/?p=NoSuchUser",
        ),
        "bounce",
        _e("k.traore@example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "gmail-disabled",
        gmail(
            "f.ba@example.com",
            "5.2.1",
            "550-5.2.1 The email account that you tried to reach is disabled. 550 5.2.1 https://support.example.com/mail/?p=DisabledUser",
        ),
        "bounce",
        _e("f.ba@example.com", "retry", "disabled", "5.2.1"),
    ),
    Case(
        "o365-recipient-not-found",
        o365(
            "desk@agence.example.net",
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        ),
        "bounce",
        _e("desk@agence.example.net", "suppress", "no-such-user", "5.1.10"),
    ),
    Case(
        "o365-dbeb-access-denied",
        o365(
            "news@radio.example.net",
            "5.4.1",
            "550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.example.com/EXOSmtpErrors [AM0PR01MB0001.eurprd01.prod.example.com]",
        ),
        "bounce",
        _e("news@radio.example.net", "suppress", "no-such-user", "5.4.1"),
    ),
    Case(
        "outlookcom-mailbox-unavailable",
        o365(
            "reporter@hotmail.example.com",
            "5.5.0",
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DB5EUR01FT001.eop-EUR01.prod.example.com]",
            subject="Undeliverable: Sahel",
        ),
        "bounce",
        _e("reporter@hotmail.example.com", "retry", "unknown-user-unconfirmed", "5.5.0"),
    ),
    Case(
        "sendmail-user-unknown",
        dsn(
            "m.keita@example.com",
            "5.1.1",
            "550 5.1.1 <m.keita@example.com>... User unknown",
            "The original message was received at Tue, 1 Dec 2026 09:00:00 GMT\nfrom relay.example.org [192.0.2.25]\n\n   ----- The following addresses had permanent fatal errors -----\n<m.keita@example.com>\n    (reason: 550 5.1.1 <m.keita@example.com>... User unknown)\n",
            subject="Returned mail: see transcript for details",
            sender="Mail Delivery Subsystem <MAILER-DAEMON@mail.example.com>",
        ),
        "bounce",
        _e("m.keita@example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "ses-user-unknown",
        dsn(
            "a.diop@example.com",
            "5.1.1",
            "550 5.1.1 user unknown",
            "An error occurred while trying to deliver the mail to the following recipients:\na.diop@example.com\n",
            subject="Delivery Status Notification (Failure)",
            sender="MAILER-DAEMON@amazonses.example.com",
            reporter="a8-30.smtp-out.amazonses.example.com",
        ),
        "bounce",
        _e("a.diop@example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "exim-user-unknown",
        exim(
            "y.camara@example.net",
            "550 5.1.1 <y.camara@example.net>: Recipient address rejected: User unknown",
        ),
        "bounce",
        _e("y.camara@example.net", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "exim-unrouteable",
        prose(
            "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  news@gone.example.net\n    Unrouteable address\n",
            "Mail delivery failed: returning message to sender",
            copy_to="news@gone.example.net",
        ),
        "bounce",
        _e("news@gone.example.net", "suppress", "no-such-domain"),
    ),
    Case(
        "qmail-no-mailbox",
        qmail("ed@weekly.example.com", "Sorry, no mailbox here by that name. (#5.1.1)"),
        "bounce",
        _e("ed@weekly.example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "yahoo-no-account",
        prose(
            "Sorry, we were unable to deliver your message to the following address.\n\n<press.reader@yahoo.example.com>:\n554: delivery error: dd This user doesn't have a yahoo.example.com account (press.reader@yahoo.example.com) [0] - mta1001.mail.example.com\n\n--- Below this line is a copy of the message.\n",
            "Failure Notice",
            sender="MAILER-DAEMON@yahoo.example.com",
        ),
        "bounce",
        _e("press.reader@yahoo.example.com", "retry", "unknown-user-unconfirmed"),
    ),
    Case(
        "orange-fr-invalid",
        prose(
            "Bonjour,\n\nVotre message n'a pas pu être remis à son destinataire.\n\n<chroniqueur@orange.example.net> : 550 5.1.1 Adresse d'au moins un destinataire invalide. Invalid recipient. OFR_416 [416]\n",
            "Echec de remise du message",
            sender="Mailer Daemon <mailer-daemon@orange.example.net>",
            copy_to="chroniqueur@orange.example.net",
            charset="iso-8859-1",
        ),
        "bounce",
        _e("chroniqueur@orange.example.net", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "exchange-fr-introuvable",
        prose(
            "Échec de la remise aux destinataires ou groupes suivants :\n\nredaction@quotidien.example.com\nL'adresse de messagerie que vous avez entrée est introuvable. Vérifiez l'adresse de messagerie du destinataire et essayez de renvoyer le message.\n\nInformations de diagnostic pour les administrateurs :\n\nServeur de génération : MAIL01.quotidien.example.com\n\nredaction@quotidien.example.com\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n",
            "Non remis : SOUS EMBARGO : Sahel",
            sender="postmaster@quotidien.example.com",
        ),
        "bounce",
        _e("redaction@quotidien.example.com", "suppress", "no-such-user", "5.1.10"),
    ),
    Case(
        "senegal-isp-fr-inconnu",
        prose(
            "Ceci est un message automatique du serveur de messagerie.\n\nLe message n'a pas pu être distribué au destinataire suivant :\n\n  moussa.ndiaye@fai.example.sn\n    Utilisateur inconnu\n",
            "Message non distribuable",
            sender="MAILER-DAEMON@fai.example.sn",
            copy_to="moussa.ndiaye@fai.example.sn",
        ),
        "bounce",
        _e("moussa.ndiaye@fai.example.sn", "retry", "unknown-user-unconfirmed"),
    ),
    Case(
        "niger-isp-fr-nexiste-pas",
        prose(
            "Votre message n'a pas pu être délivré.\n\nDestinataire : <hamani@fai.example.ne>\nRaison : 550 L'adresse n'existe pas sur ce serveur\n",
            "Échec de la distribution du message",
            sender="postmaster@fai.example.ne",
        ),
        "bounce",
        _e("hamani@fai.example.ne", "retry", "unknown-user-unconfirmed"),
    ),
    Case(
        "spanish-desconocido",
        prose(
            "No se ha podido entregar el mensaje a los siguientes destinatarios:\n\n<lucia.perez@diario.example.com>\n550 5.1.1 Usuario desconocido\n",
            "No se puede entregar: Sahel",
            sender="MAILER-DAEMON@diario.example.com",
        ),
        "bounce",
        _e("lucia.perez@diario.example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "portuguese-nao-existe",
        prose(
            "A sua mensagem não foi entregue ao seguinte destinatário:\n\n<joao.silva@jornal.example.com>\n550 5.1.1 O endereço de correio não existe\n",
            "Mensagem não entregue",
            sender="MAILER-DAEMON@jornal.example.com",
        ),
        "bounce",
        _e("joao.silva@jornal.example.com", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "german-unbekannt",
        prose(
            "Ihre Nachricht konnte nicht zugestellt werden.\n\n<k.mueller@zeitung.example.de>\n550 5.1.1 Empfänger unbekannt\n",
            "Unzustellbar: Sahel",
            sender="MAILER-DAEMON@zeitung.example.de",
        ),
        "bounce",
        _e("k.mueller@zeitung.example.de", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "mailbox-moved",
        postfix(
            "desk@moved.example.com",
            "5.1.6",
            "550 5.1.6 Recipient addresses in this domain no longer accept mail: mailbox has moved",
        ),
        "bounce",
        _e("desk@moved.example.com", "suppress", "moved", "5.1.6"),
    ),
    Case(
        "bad-syntax",
        postfix("bad..dots@example.com", "5.1.3", "501 5.1.3 Bad recipient address syntax"),
        "bounce",
        _e("bad..dots@example.com", "suppress", "bad-address", "5.1.3"),
    ),
    Case(
        "status-only-in-prose",
        prose(
            "The following message to <i.sanogo@example.net> was undeliverable.\nThe reason for the problem:\n5.1.0 - Unknown address error 550-'5.1.1 <i.sanogo@example.net>... User unknown'\n",
            "Undeliverable mail",
            sender="postmaster@mail.example.net",
        ),
        "bounce",
        _e("i.sanogo@example.net", "suppress", "no-such-user", "5.1.1"),
    ),
    Case(
        "generic-5.0.0-user-unknown",
        postfix("old.name@example.org", "5.0.0", "550 sorry, user unknown"),
        "bounce",
        _e("old.name@example.org", "retry", "unknown-user-unconfirmed", "5.0.0"),
    ),
    Case(
        "account-suspended",
        postfix(
            "freelance@example.com",
            "5.2.1",
            "550 5.2.1 This mailbox has been suspended for inactivity",
        ),
        "bounce",
        _e("freelance@example.com", "retry", "disabled", "5.2.1"),
    ),
    # How we send: alert -------------------------------------------------------------------
    Case(
        "gmail-dmarc",
        gmail(
            "editor@example.com",
            "5.7.26",
            "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy. Please contact the administrator of example.org domain if this was a legitimate mail. 550 5.7.26 DMARC",
        ),
        "bounce",
        _e("editor@example.com", "alert", "dmarc", "5.7.26"),
    ),
    Case(
        "gmail-spf",
        gmail(
            "chief@example.com",
            "5.7.23",
            "550-5.7.23 The message was rejected because of Sender Policy Framework violation. 550 5.7.23 SPF",
        ),
        "bounce",
        _e("chief@example.com", "alert", "spf", "5.7.23"),
    ),
    Case(
        "dkim-none",
        postfix("news@example.net", "5.7.20", "550 5.7.20 No passing DKIM signature found"),
        "bounce",
        _e("news@example.net", "alert", "dkim", "5.7.20"),
    ),
    Case(
        "spamhaus",
        postfix(
            "desk@example.net",
            "5.7.1",
            "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using zen.spamhaus.example.org; https://www.spamhaus.example.org/query/ip/192.0.2.25",
        ),
        "bounce",
        _e("desk@example.net", "alert", "blocklist", "5.7.1"),
    ),
    Case(
        "o365-banned-ip",
        o365(
            "press@ministry.example.net",
            "5.7.606",
            "550 5.7.606 Access denied, banned sending IP [192.0.2.25]. To request removal from this list please visit https://sender.example.com/",
        ),
        "bounce",
        _e("press@ministry.example.net", "alert", "blocklist", "5.7.606"),
    ),
    Case(
        "outlookcom-s3150",
        o365(
            "writer@outlook.example.com",
            "5.7.1",
            "550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
        ),
        "bounce",
        _e("writer@outlook.example.com", "alert", "blocklist", "5.7.1"),
    ),
    Case(
        "content-spam",
        postfix(
            "tips@example.com", "5.7.1", "554 5.7.1 Message rejected as spam by Content Filtering."
        ),
        "bounce",
        _e("tips@example.com", "alert", "spam", "5.7.1"),
    ),
    Case(
        "relay-denied",
        postfix(
            "someone@elsewhere.example.net",
            "5.7.1",
            "554 5.7.1 <someone@elsewhere.example.net>: Relay access denied",
        ),
        "bounce",
        _e("someone@elsewhere.example.net", "alert", "relay", "5.7.1"),
    ),
    Case(
        "reverse-dns",
        exim(
            "desk@strict.example.com",
            "550 5.7.25 Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
        ),
        "bounce",
        _e("desk@strict.example.com", "alert", "reverse-dns", "5.7.25"),
    ),
    Case(
        "too-large",
        postfix(
            "photo@example.com",
            "5.3.4",
            "552 5.3.4 Message size exceeds fixed maximum message size",
        ),
        "bounce",
        _e("photo@example.com", "alert", "size", "5.3.4"),
    ),
    Case(
        "policy-generic",
        postfix(
            "closed@example.org", "5.7.1", "550 5.7.1 Delivery not authorized, message refused"
        ),
        "bounce",
        _e("closed@example.org", "alert", "policy", "5.7.1"),
    ),
    Case(
        "policy-access-denied-5.7.1",
        postfix(
            "intranet@example.org",
            "5.7.1",
            "550 5.7.1 <intranet@example.org>: Recipient address rejected: Access denied",
        ),
        "bounce",
        _e("intranet@example.org", "suppress", "no-such-user", "5.7.1"),
    ),
    Case(
        "yahoo-tss04",
        postfix(
            "reader@yahoo.example.com",
            "4.7.0",
            "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1",
            action="delayed",
            subject="Delivery Status Notification (Delay)",
        ),
        "bounce",
        _e("reader@yahoo.example.com", "alert", "reputation", "4.7.0"),
    ),
    Case(
        "gmail-rate-unsolicited",
        gmail(
            "ed@example.com",
            "4.7.28",
            "421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.",
            action="delayed",
        ),
        "bounce",
        _e("ed@example.com", "alert", "reputation", "4.7.28"),
    ),
    Case(
        "french-spam",
        prose(
            "Votre message n'a pas pu être remis.\n\n<infos@fai.example.net> : 550 5.7.1 Message refusé : considéré comme spam (pourriel)\n",
            "Non remis",
            sender="postmaster@fai.example.net",
        ),
        "bounce",
        _e("infos@fai.example.net", "alert", "spam", "5.7.1"),
    ),
    Case(
        "virus",
        postfix("desk@av.example.com", "5.7.0", "554 5.7.0 Rejected: message contains a virus"),
        "bounce",
        _e("desk@av.example.com", "alert", "content", "5.7.0"),
    ),
    Case(
        "auth-required",
        exim(
            "x@example.net",
            "550 5.7.1 Sender not authenticated: authentication required for example.org",
        ),
        "bounce",
        _e("x@example.net", "alert", "authentication", "5.7.1"),
    ),
    # Temporary: retry ---------------------------------------------------------------------
    Case(
        "gmail-over-quota",
        gmail(
            "busy@example.com",
            "4.2.2",
            "452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.example.com/mail/?p=OverQuotaTemp",
            action="delayed",
        ),
        "bounce",
        _e("busy@example.com", "none", "delayed", "4.2.2"),
    ),
    Case(
        "mailbox-full-permanent-code",
        postfix("full@example.net", "5.2.2", "552 5.2.2 Mailbox full"),
        "bounce",
        _e("full@example.net", "retry", "mailbox-full", "5.2.2"),
    ),
    Case(
        "french-boite-pleine",
        prose(
            "Votre message n'a pas pu être remis à <plein@fai.example.net>.\nRaison : 552 5.2.2 Boîte aux lettres pleine\n",
            "Échec de remise",
            sender="MAILER-DAEMON@fai.example.net",
        ),
        "bounce",
        _e("plein@fai.example.net", "retry", "mailbox-full", "5.2.2"),
    ),
    Case(
        "delayed-timeout",
        postfix(
            "slow@example.com",
            "4.4.1",
            "connect to mx.example.com[192.0.2.50]:25: Connection timed out",
            action="delayed",
            subject="Delayed Mail (still being retried)",
        ),
        "bounce",
        _e("slow@example.com", "none", "delayed", "4.4.1"),
    ),
    Case(
        "expired",
        postfix(
            "away@example.org",
            "4.4.7",
            "delivery temporarily suspended: connect to mx.example.org[192.0.2.60]:25: Connection refused; delivery time expired",
            subject="Undelivered Mail Returned to Sender",
        ),
        "bounce",
        _e("away@example.org", "retry", "expired", "4.4.7"),
    ),
    Case(
        "expired-5.4.7",
        postfix("late@example.org", "5.4.7", "550 5.4.7 Delivery expired (message too old)"),
        "bounce",
        _e("late@example.org", "retry", "expired", "5.4.7"),
    ),
    Case(
        "greylisted",
        postfix(
            "grey@example.net",
            "4.7.1",
            "450 4.7.1 <grey@example.net>: Recipient address rejected: Greylisted, see http://postgrey.example.org/",
            action="delayed",
            subject="Delayed Mail (still being retried)",
        ),
        "bounce",
        _e("grey@example.net", "none", "delayed", "4.7.1"),
    ),
    Case(
        "too-many-connections",
        postfix(
            "busy@example.org",
            "4.7.0",
            "421 4.7.0 Too many concurrent SMTP connections; please try again later",
            action="delayed",
        ),
        "bounce",
        _e("busy@example.org", "none", "delayed", "4.7.0"),
    ),
    Case(
        "exim-retry-timeout",
        prose(
            "This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  stale@example.net\n    retry timeout exceeded\n",
            "Mail delivery failed: returning message to sender",
            copy_to="stale@example.net",
        ),
        "bounce",
        _e("stale@example.net", "retry", "expired"),
    ),
    Case(
        "qmail-unclear",
        qmail("odd@example.com", "Remote host said: 554 Transaction failed"),
        "bounce",
        _e("odd@example.com", "retry", "unclassified"),
    ),
    Case(
        "mailbox-unavailable-no-detail",
        postfix(
            "maybe@example.com", "5.0.0", "550 Requested action not taken: mailbox unavailable"
        ),
        "bounce",
        _e("maybe@example.com", "retry", "unknown-user-unconfirmed", "5.0.0"),
    ),
    Case(
        "service-unavailable",
        postfix("down@example.net", "5.0.0", "554 5.0.0 Service unavailable"),
        "bounce",
        _e("down@example.net", "retry", "unclassified", "5.0.0"),
    ),
    # Good news: none ----------------------------------------------------------------------
    Case(
        "delivered",
        postfix(
            "ok@example.com",
            "2.0.0",
            "250 2.0.0 Ok: queued as 4XYZ",
            action="delivered",
            subject="Successful Mail Delivery Report",
        ),
        "bounce",
        _e("ok@example.com", "none", "delivered", "2.0.0"),
    ),
    Case(
        "relayed",
        postfix(
            "relay@example.com",
            "2.0.0",
            "",
            action="relayed",
            subject="Delivery Status Notification (Relay)",
        ),
        "bounce",
        _e("relay@example.com", "none", "relayed", "2.0.0"),
    ),
    # Complaints ---------------------------------------------------------------------------
    Case(
        "arf-abuse",
        arf("abuse", "angry@example.com", "angry@example.com"),
        "complaint",
        _e("angry@example.com", "suppress", "complaint"),
    ),
    Case(
        "arf-opt-out",
        arf("opt-out", "done@example.net", "done@example.net"),
        "complaint",
        _e("done@example.net", "suppress", "opt-out"),
    ),
    Case(
        "arf-no-rcpt-header",
        arf("abuse", None, "redacted@example.org"),
        "complaint",
        _e("redacted@example.org", "suppress", "complaint"),
    ),
    Case(
        "arf-not-spam",
        arf("not-spam", "fine@example.com", "fine@example.com"),
        "complaint",
        _e("fine@example.com", "none", "not-spam"),
    ),
    # Auto-replies -------------------------------------------------------------------------
    Case(
        "ooo-english",
        auto_reply(
            "Grace Mensah <grace.mensah@example.net>",
            "Out of Office: SOUS EMBARGO",
            "I am out of the office until 7 December with limited access to email.\n",
        ),
        "auto-reply",
        _e("grace.mensah@example.net", "none", "auto-reply"),
    ),
    Case(
        "ooo-french",
        auto_reply(
            "Adama Koné <adama.kone@example.com>",
            "Réponse automatique : Sahel",
            "Je suis absent jusqu'au 10 décembre. En cas d'urgence, contactez la rédaction.\n",
        ),
        "auto-reply",
        _e("adama.kone@example.com", "none", "auto-reply"),
    ),
    Case(
        "exchange-automatic-reply",
        auto_reply(
            "Rebecca Stone <rebecca.stone@example.org>",
            "Automatic reply: EMBARGOED",
            "Thank you for your email. I'm travelling this week.\n",
            headers="X-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: rebecca.stone@example.org\n",
        ),
        "auto-reply",
        _e("rebecca.stone@example.org", "none", "auto-reply"),
    ),
    Case(
        "x-autoreply-header",
        auto_reply(
            "desk@example.com",
            "Re: Sahel",
            "Your message has been received by the news desk.\n",
            headers="X-Autoreply: yes\n",
        ),
        "auto-reply",
        _e("desk@example.com", "none", "auto-reply"),
    ),
    Case(
        "left-english",
        auto_reply(
            "Tom Hughes <tom.hughes@example.org>",
            "Automatic reply: Sahel",
            "Tom Hughes is no longer with World Desk. Please send press releases to newsdesk@worlddesk.example.org instead.\n",
        ),
        "auto-reply",
        _e("tom.hughes@example.org", "none", "left"),
    ),
    Case(
        "left-french",
        auto_reply(
            "Lucas Petit <lucas.petit@example.net>",
            "Réponse automatique",
            "Lucas Petit a quitté la rédaction. Merci d'écrire désormais à redaction@continentale.example.net.\n",
        ),
        "auto-reply",
        _e("lucas.petit@example.net", "none", "left"),
    ),
    Case(
        "left-no-new-address",
        auto_reply(
            "Ana Costa <ana.costa@example.com>",
            "Out of office",
            "Ana has left the company. This mailbox is not monitored.\n",
        ),
        "auto-reply",
        _e("ana.costa@example.com", "none", "left"),
    ),
    # Not a report -------------------------------------------------------------------------
    Case(
        "human-reply",
        (
            f"From: Ibrahim <ibrahim.abdou@example.com>\nTo: {RETURN}\nSubject: Re: Sahel\nIn-Reply-To: {MSGID}\nDate: Tue, 01 Dec 2026 11:00:00 +0000\nContent-Type: text/plain\n\nThanks, could we have an interview with Mariam Diallo?\n"
        ).encode(),
        "other",
        (),
    ),
    Case(
        "newsletter",
        (
            f"From: Weekly <news@letters.example.com>\nTo: {RETURN}\nSubject: Our weekly digest\nDate: Tue, 01 Dec 2026 11:00:00 +0000\nContent-Type: text/plain\n\nHere is the news of the week.\n"
        ).encode(),
        "other",
        (),
    ),
]


# The other addresses reports name that are ours, never recipients.
OURS = {"press@example.org", RETURN}
