"""Prose for the redaction evaluation set: greetings, filler sentences, closings, reply
attribution lines and subjects in nine languages, the way support mail is written (read
from the reply-parser, talon and helpdesk mails in the shared corpus).

`{D}` in a frame is where a decoy phrase goes.
"""

from __future__ import annotations

LANGS = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl")
NAMES = [
    "Anna Schmidt",
    "Bob Miller",
    "Chloé Martin",
    "Diego García",
    "Eva Novak",
    "Farid Haddad",
    "Giulia Rossi",
    "Hanna Lindqvist",
    "Jan de Vries",
    "João Silva",
    "Katarzyna Nowak",
    "Liam O'Brien",
    "Mette Jensen",
    "Noah Becker",
    "Olivia Brown",
    "Pierre Dubois",
]
COMPANIES = [
    "Acme GmbH",
    "Globex SARL",
    "Initech Ltd",
    "Umbrella S.L.",
    "Hooli AB",
    "Vandelay B.V.",
    "Stark Lda.",
    "Wayne Sp. z o.o.",
    "Pied Piper Inc.",
]

GREETINGS: dict[str, list[str]] = {
    "en": [
        "Hi,",
        "Hello support team,",
        "Hi there,",
        "Dear Sir or Madam,",
        "Hey {name},",
        "Good morning,",
        "Hello again,",
    ],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo {name},", "Moin,"],
    "fr": ["Bonjour,", "Bonjour {name},", "Madame, Monsieur,", "Salut,"],
    "es": ["Hola,", "Buenos días,", "Estimado equipo de soporte:", "Hola {name},"],
    "it": ["Buongiorno,", "Ciao,", "Gentile assistenza,", "Salve {name},"],
    "nl": ["Hallo,", "Beste {name},", "Goedemiddag,", "Geachte heer/mevrouw,"],
    "pt": ["Olá,", "Bom dia,", "Prezados,", "Olá {name},"],
    "sv": ["Hej,", "Hej {name}!", "God morgon,", "Hejsan,"],
    "pl": ["Dzień dobry,", "Witam,", "Szanowni Państwo,", "Cześć {name},"],
}

FILLERS: dict[str, list[str]] = {
    "en": [
        "Since this morning nobody in our team can log in to the admin panel.",
        "I already cleared the cache and tried another browser, same result.",
        "Could you please have a look as soon as possible? It blocks our release.",
        "The export job keeps failing with a timeout after a few minutes.",
        "We did not change anything on our side as far as I know.",
        "Thanks for the quick answer last time!",
        "I am attaching a screenshot of the error.",
        "Our accountant says the last two charges look wrong.",
        "Let me know if you need anything else from me.",
        "This started right after the maintenance window on the weekend.",
    ],
    "de": [
        "Seit heute Morgen kann sich niemand mehr im Portal anmelden.",
        "Ich habe den Cache schon gelöscht und einen anderen Browser probiert.",
        "Könnten Sie sich das bitte kurzfristig ansehen?",
        "Der Export bricht nach ein paar Minuten mit einem Timeout ab.",
        "Vielen Dank im Voraus für Ihre Hilfe.",
        "Auf unserer Seite hat sich nichts geändert.",
    ],
    "fr": [
        "Depuis ce matin, personne ne peut se connecter à l'interface.",
        "J'ai déjà vidé le cache et essayé un autre navigateur.",
        "Pourriez-vous regarder cela rapidement ? C'est bloquant pour nous.",
        "L'export échoue toujours au bout de quelques minutes.",
        "Merci d'avance pour votre aide.",
    ],
    "es": [
        "Desde esta mañana nadie puede entrar en el panel.",
        "Ya he borrado la caché y he probado con otro navegador.",
        "¿Podrían revisarlo lo antes posible? Nos bloquea el trabajo.",
        "La exportación falla siempre después de unos minutos.",
        "Muchas gracias de antemano.",
    ],
    "it": [
        "Da stamattina nessuno riesce ad accedere al pannello.",
        "Ho già svuotato la cache e provato un altro browser.",
        "Potete verificare al più presto? È urgente.",
        "Grazie mille per l'aiuto.",
    ],
    "nl": [
        "Sinds vanochtend kan niemand meer inloggen op het portaal.",
        "Ik heb de cache al gewist en een andere browser geprobeerd.",
        "Kunnen jullie hier snel naar kijken? Het is dringend.",
        "Alvast bedankt voor de hulp.",
    ],
    "pt": [
        "Desde hoje de manhã ninguém consegue entrar no painel.",
        "Já limpei o cache e tentei outro navegador.",
        "Podem verificar o mais rápido possível? É urgente.",
        "Desde já agradeço a ajuda.",
    ],
    "sv": [
        "Sedan i morse kan ingen logga in i portalen.",
        "Jag har redan rensat cachen och testat en annan webbläsare.",
        "Kan ni titta på det så snart som möjligt?",
        "Tack på förhand för hjälpen.",
    ],
    "pl": [
        "Od rana nikt nie może zalogować się do panelu.",
        "Wyczyściłem już pamięć podręczną i spróbowałem innej przeglądarki.",
        "Czy mogą Państwo sprawdzić to jak najszybciej?",
        "Z góry dziękuję za pomoc.",
    ],
}

DECOY_FRAMES: dict[str, list[str]] = {
    "en": [
        "This is about {D}.",
        "For reference: {D}.",
        "I also checked {D}, no change.",
        "FYI {D}",
        "{D} - please check.",
        "Related: {D}.",
    ],
    "de": ["Es geht um {D}.", "Zur Info: {D}.", "Betrifft {D}.", "Siehe {D}."],
    "fr": ["Il s'agit de {D}.", "Pour info : {D}.", "Concerne {D}."],
    "es": ["Se trata de {D}.", "Para su referencia: {D}.", "Referente a {D}."],
    "it": ["Si tratta di {D}.", "Riferimento: {D}."],
    "nl": ["Het gaat om {D}.", "Ter info: {D}."],
    "pt": ["Trata-se de {D}.", "Para referência: {D}."],
    "sv": ["Det gäller {D}.", "För kännedom: {D}."],
    "pl": ["Chodzi o {D}.", "Dla informacji: {D}."],
}

CLOSINGS: dict[str, list[str]] = {
    "en": ["Thanks,", "Best regards,", "Kind regards,", "Cheers,", "Thanks in advance,"],
    "de": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße,", "LG"],
    "fr": ["Cordialement,", "Bien à vous,", "Merci,"],
    "es": ["Saludos,", "Un saludo,", "Atentamente,"],
    "it": ["Cordiali saluti,", "Grazie,", "Saluti"],
    "nl": ["Met vriendelijke groet,", "Groetjes,"],
    "pt": ["Atenciosamente,", "Cumprimentos,", "Abraço,"],
    "sv": ["Med vänliga hälsningar", "Hälsningar,", "MVH"],
    "pl": ["Pozdrawiam,", "Z poważaniem,"],
}

ATTRIBUTIONS: dict[str, list[str]] = {
    "en": [
        "On {date}, {name} <{email}> wrote:",
        "On {date} at 10:14, Support <{email}> wrote:",
        "-----Original Message-----\nFrom: {name} <{email}>\nSent: {date}\n"
        "Subject: Re: your request",
    ],
    "de": ["Am {date} um 09:12 schrieb {name} <{email}>:", "{name} <{email}> schrieb am {date}:"],
    "fr": ["Le {date}, {name} <{email}> a écrit :", "Le {date} à 14:02, Support a écrit :"],
    "es": ["El {date}, {name} <{email}> escribió:"],
    "it": ["Il giorno {date} {name} <{email}> ha scritto:"],
    "nl": ["Op {date} schreef {name} <{email}>:"],
    "pt": ["Em {date}, {name} <{email}> escreveu:"],
    "sv": ["Den {date} skrev {name} <{email}>:"],
    "pl": ["W dniu {date} {name} <{email}> pisze:"],
}

SUBJECTS: dict[str, list[str]] = {
    "en": [
        "Login not working",
        "Re: Invoice question",
        "URGENT: export broken",
        "Account access",
        "Fwd: API integration problem",
        "Question about my subscription",
        "Re: Re: 2FA issue",
    ],
    "de": ["Anmeldung funktioniert nicht", "AW: Rechnung", "Dringend: Zugang gesperrt"],
    "fr": ["Problème de connexion", "RE: facture", "Accès bloqué"],
    "es": ["No puedo entrar", "RE: factura", "Problema con la API"],
    "it": ["Problema di accesso", "R: fattura"],
    "nl": ["Inloggen lukt niet", "Re: factuur"],
    "pt": ["Não consigo entrar", "RES: fatura"],
    "sv": ["Kan inte logga in", "SV: faktura"],
    "pl": ["Nie mogę się zalogować", "Odp: faktura"],
}

SIGNATURES = [
    "{name}\n{company} | Tel. {D}",
    "--\n{name}\n{company}\n{D}",
    "{name}\nSent from my iPhone",
    "Von meinem iPhone gesendet",
    "--\n{name} | IT\n{company}, {D}",
    "{name}\nEnvoyé de mon appareil mobile",
    "___\n{name}\nHead of Operations\n{company}\n{D}",
]
"""Signature bodies; `{D}` is a decoy (phone, postal code, VAT id)."""

SIGNATURE_DECOYS = ("phone", "postal_code", "vat_id", "phone", "iban")
