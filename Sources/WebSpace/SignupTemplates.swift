/// The pages of "Créer mon compte", the activation and the SMS code (contract §9, the guide's steps 1 to 5).
extension Templates {
    static let signup: [String: String] = [
        "creer-compte-etapes": signupSteps, "creer-compte": signupForm, "compte-cree": accountCreated,
        "renvoyer-activation": resendActivation, "portable": phoneCode, "activation": activation,
    ]

    /// A radio or checkbox line with its label after it.
    static func checkbox(_ id: String, label: String, extra: String = "") -> String {
        """
        <div class="champ">
        <p class="case"><input id="\(id)" name="\(id)" type="checkbox" value="1"{{#form.\(id)}} checked{{/form.\(id)}} \(extra){{#errors.\(id)}} aria-invalid="true" aria-describedby="\(id)-erreur"{{/errors.\(id)}}>
        <label for="\(id)">\(label)</label></p>
        {{#errors.\(id)}}<p class="erreur" id="\(id)-erreur">{{.}}</p>{{/errors.\(id)}}
        </div>
        """
    }

    static let signupSteps = """
    <p>Pour créer ton compte, il te faut :</p>
    <ol>
    <li>tes informations : nom, prénom, date de naissance, adresse e-mail et un numéro de portable valide (il est obligatoire pour finaliser ton compte) ;</li>
    <li>accepter le règlement de la carte Génération #HDF ;</li>
    <li>passer la vérification anti-robot (elle se fait toute seule en quelques secondes), puis cliquer sur « Créer le compte » ;</li>
    <li>cliquer sur « Confirmer mon adresse e-mail » dans le mail que tu recevras ;</li>
    <li>saisir le code reçu par SMS, puis faire ta demande de carte.</li>
    </ol>
    <p><a class="bouton" href="/creer-mon-compte/informations">Suivant</a></p>
    <p><a href="/connexion">Retour à la connexion</a></p>
    """

    static let signupForm = """
    <form method="post" action="/creer-mon-compte/informations" class="formulaire" data-anti-robot="en-cours" novalidate>
    \(token)
    <fieldset>
    <legend>Informations du bénéficiaire</legend>
    \(field("nom", label: "Nom", extra: #"autocomplete="family-name" required"#))
    \(field("prenom", label: "Prénom", extra: #"autocomplete="given-name" required"#))
    \(field("naissance", label: "Date de naissance (jj/mm/aaaa)", extra: #"autocomplete="bday" inputmode="numeric" required"#))
    \(field("email", label: "Adresse e-mail", type: "email", extra: #"autocomplete="email" required"#))
    \(field("portable", label: "Numéro de portable", type: "tel", extra: #"autocomplete="tel" required"#))
    <p class="info">Un numéro de portable valide est obligatoire pour finaliser la création de ton compte. Vérifie bien l'exactitude du numéro renseigné.</p>
    <div class="champ">
    <label for="mot_de_passe">Mot de passe</label>
    <input id="mot_de_passe" name="mot_de_passe" type="password" autocomplete="new-password" required aria-describedby="mot_de_passe-aide{{#errors.mot_de_passe}} mot_de_passe-erreur{{/errors.mot_de_passe}}"{{#errors.mot_de_passe}} aria-invalid="true"{{/errors.mot_de_passe}}>
    <p id="mot_de_passe-aide">Au moins 8 caractères.</p>
    {{#errors.mot_de_passe}}<p class="erreur" id="mot_de_passe-erreur">{{.}}</p>{{/errors.mot_de_passe}}
    </div>
    <div class="champ">
    <label for="confirmation">Confirmer le mot de passe</label>
    <input id="confirmation" name="confirmation" type="password" autocomplete="new-password" required{{#errors.confirmation}} aria-invalid="true" aria-describedby="confirmation-erreur"{{/errors.confirmation}}>
    {{#errors.confirmation}}<p class="erreur" id="confirmation-erreur">{{.}}</p>{{/errors.confirmation}}
    </div>
    </fieldset>
    \(checkbox("reglement", label: #"J'accepte le <a href="/reglement-general.pdf">règlement de la carte Génération #HDF</a> (PDF)"#))
    <div class="champ">
    <input type="hidden" name="defi" value="{{challenge}}">
    <input type="hidden" name="preuve" value="">
    <p id="anti-robot-statut" role="status" aria-live="polite">Vérification anti-robot : elle démarre dès que la page est chargée.</p>
    <noscript><p class="alerte">La vérification anti-robot a besoin de JavaScript : active-le pour cette page, ou appelle le 0800 026 080 (numéro vert) pour créer ton compte.</p></noscript>
    {{#errors.defi}}<p class="erreur" id="defi-erreur">{{.}}</p>{{/errors.defi}}
    </div>
    <button type="submit">Créer le compte</button>
    </form>
    <script src="/anti-robot.js"></script>
    """

    static let accountCreated = """
    <div class="confirmation" role="status">
    <p>Ton compte est créé, {{firstName}}.</p>
    <p>Ton numéro de dossier, ton identifiant pour te connecter : <span class="code">{{dossier}}</span></p>
    </div>
    {{#mailSent}}<p>Nous venons de t'envoyer un e-mail à l'adresse <strong>{{email}}</strong>. Clique sur « Confirmer mon adresse e-mail » dans ce mail pour activer ton compte (le lien est valable 48 heures).</p>{{/mailSent}}
    {{^mailSent}}<p class="alerte" role="alert">Le mail d'activation n'a pas pu être envoyé à <strong>{{email}}</strong>. Note ton numéro de dossier, puis demande un lien avec « Renvoyer le lien d'activation » dans quelques minutes.</p>{{/mailSent}}
    <p>Si tu n'as pas reçu le mail d'activation, vérifie tes courriers indésirables, ou rends-toi sur la page de connexion et clique sur « Renvoyer le lien d'activation ».</p>
    <p><a class="bouton" href="/connexion">OK</a></p>
    """

    static let activation = """
    <p>Pour activer ton compte, confirme ton adresse e-mail.</p>
    <form method="post" action="/activer-mon-compte" class="formulaire">
    \(token)
    <input type="hidden" name="lien" value="{{link}}">
    <button type="submit">Confirmer mon adresse e-mail</button>
    </form>
    """

    static let resendActivation = """
    <p>Saisis l'adresse e-mail et la date de naissance de ton compte : si ton compte n'est pas encore activé, nous t'envoyons un nouveau lien (au plus un toutes les 5 minutes).</p>
    <form method="post" action="/renvoyer-le-lien-d-activation" class="formulaire">
    \(token)
    \(field("email", label: "Adresse e-mail", type: "email", extra: #"autocomplete="email" required"#))
    \(field("naissance", label: "Date de naissance (jj/mm/aaaa)", extra: #"autocomplete="bday" inputmode="numeric" required"#))
    <button type="submit">Renvoyer le lien d'activation</button>
    </form>
    <p><a href="/connexion">Retour à la connexion</a></p>
    """

    static let phoneCode = """
    <p>Pour finaliser la création de ton compte, confirme ton numéro de portable <strong>{{maskedPhone}}</strong> : clique sur le bouton pour recevoir le code de validation par SMS, puis saisis-le.</p>
    {{#sent}}<p class="info" role="status">{{.}}</p>{{/sent}}
    {{#sendError}}<p class="alerte" role="alert">{{.}}</p>{{/sendError}}
    <form method="post" action="/confirmer-mon-portable/envoyer">
    \(token)
    <button type="submit" class="lien-bouton">Recevoir le code par SMS</button>
    </form>
    <form method="post" action="/confirmer-mon-portable" class="formulaire">
    \(token)
    \(field("code", label: "Code reçu par SMS (6 chiffres)", extra: #"autocomplete="one-time-code" inputmode="numeric" required"#))
    <button type="submit">Confirmer</button>
    </form>
    <p>Ton numéro a changé ? Appelle le 0800 026 080 (numéro vert).</p>
    """
}
