import BeneficiaryOperations
import Foundation
import HDFDomain
import Ledger
import Mailer

/// (issue 10, contract §9) After a card application is approved or rejected, the beneficiary is told the way
/// they chose in the application ("notification": mail, SMS or both), at the addresses of their web-space
/// account. The operator's verbs have no relay: mail goes to `DIR/outbox/mail/`, SMS to `DIR/outbox/sms/`
/// (contract §8's outbox), where a relay's sender picks them up. A notice is sent after the decision is
/// committed and never undoes it: what could not be sent is said, the decision stands.
public enum DecisionNotice {
    /// What was written, one line each ("mail PATH", "sms PATH"), and what could not be ("not sent: why").
    public struct Sent: Sendable, Equatable {
        public var lines: [String] = []
    }

    /// The texts of an approval: the card and the advantages loaded, amounts the French way.
    static func approvalTexts(firstName: String, wallets: [WalletOutput]) -> (subject: String, mail: String, sms: String) {
        let advantages = wallets.compactMap { wallet -> String? in
            guard let code = WalletCode(rawValue: wallet.code) else { return nil }
            return "Ton avantage \(code.label) : \(FrenchFormat.amount(cents: wallet.balance))"
        }
        let mail = ["Bonjour \(firstName),", "",
                    "Ta demande de carte Génération #HDF est acceptée : ta carte est émise et te sera remise prochainement.", ""]
            + advantages + ["", "Tu retrouves tes porte-monnaie dans ton Espace bénéficiaire, rubrique « Ma carte ».", "",
                            "L'équipe Génération #HDF"]
        let sms = "Génération #HDF : ta carte est émise. " + advantages.joined(separator: " ; ") + "."
        return ("Ta carte Génération #HDF est émise", mail.joined(separator: "\n"), sms)
    }

    static func rejectionTexts(firstName: String, reason: String) -> (subject: String, mail: String, sms: String) {
        let mail = ["Bonjour \(firstName),", "", "Ta demande de carte Génération #HDF est refusée.", "Motif : \(reason)", "",
                    "Pour toute question, appelle le 0800 026 080 (service et appel gratuits).", "", "L'équipe Génération #HDF"]
        return ("Ta demande de carte Génération #HDF", mail.joined(separator: "\n"),
                "Génération #HDF : ta demande de carte est refusée. Motif : \(reason). Infos : 0800 026 080.")
    }

    /// Sends the texts made for the beneficiary's first name to the beneficiary of `application`, by the means
    /// they chose (one read of their account gives both the name and the addresses).
    static func send(_ texts: (_ firstName: String) -> (subject: String, mail: String, sms: String), application: ApplicationRecord,
                     ledger: Ledger, environmentDirectory: String) async -> Sent {
        var sent = Sent()
        let account: WebAccounts.AccountDetails
        do {
            account = try WebAccounts(ledger: ledger).details(beneficiaryID: application.beneficiaryID)
        } catch {
            sent.lines.append("not sent: the beneficiary has no web-space account to write to (\(error))")
            return sent
        }
        let texts = texts(account.identity.firstName)
        let mailer = Mailer(environmentDirectory: environmentDirectory, smtp: nil, from: Mailer.programmeSender)
        let wantsMail = application.answers.notification != "sms"
        let wantsSMS = application.answers.notification != "email"
        if wantsMail {
            do {
                let delivery = try await mailer.send(MailMessage(to: account.email, subject: texts.subject, text: texts.mail))
                if case .outbox(let path) = delivery { sent.lines.append("mail \(path)") }
            } catch {
                sent.lines.append("not sent: mail to \(account.email): \(error)")
            }
        }
        if wantsSMS {
            do {
                sent.lines.append("sms " + (try mailer.send(SMSMessage(phone: account.phone, text: texts.sms))))
            } catch {
                sent.lines.append("not sent: SMS: \(error)")
            }
        }
        return sent
    }
}

extension ApplicationDesk {
    /// Tells the beneficiary of an approval (after it is committed).
    public func noticeOfApproval(_ approval: Approval) async -> DecisionNotice.Sent {
        await DecisionNotice.send({ DecisionNotice.approvalTexts(firstName: $0, wallets: approval.wallets) },
                                  application: approval.application, ledger: ledger, environmentDirectory: layout.directory)
    }

    /// Tells the beneficiary of a rejection (after it is committed).
    public func noticeOfRejection(_ application: ApplicationRecord) async -> DecisionNotice.Sent {
        await DecisionNotice.send({ DecisionNotice.rejectionTexts(firstName: $0, reason: application.reason ?? "") },
                                  application: application, ledger: ledger, environmentDirectory: layout.directory)
    }
}
