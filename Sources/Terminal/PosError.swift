import CardApplication
import HDFDomain
import PCSC

/// Why a terminal operation did not go through, worded for the shop's display (French, one line).
/// `code` is the gateway's response code for a decline (`51`, `A1`, ...), else a word naming the failure
/// (`no_card`, `card_removed`, `pcsc_unavailable`, `gateway_unreachable`, `no_response_reversed`, ...).
/// Every case says whether money may have moved: only `noResponseReversalPending` leaves something to do,
/// and the terminal does it by itself at its next operation.
public enum PosError: Error, CustomStringConvertible, Sendable {
    /// An option the operator gave is wrong (amount, wallet, voucher code, date, paths).
    case usage(code: String, String)
    /// The reader side: no pcscd, no reader, no card in time, card removed, ...
    case reader(PCSCError)
    /// The card answered, but not as a Génération #HDF card should.
    case card(CardCommands.AnswerError)
    /// No TLS session with the gateway (refused, unreachable, certificate refused, revoked terminal).
    case gatewayUnreachable(endpoint: String, why: String)
    /// The gateway declined: its code and its French message.
    case declined(operation: Operation, code: String, message: String)
    /// A purchase or redemption got no answer in time; its reversal was accepted: nothing was debited.
    case noResponseReversed(operation: Operation, waited: Duration)
    /// A purchase or redemption got no answer, nor did its reversal; the reversal is kept on disk and sent
    /// again before the terminal's next operation.
    case noResponseReversalPending(operation: Operation, waited: Duration)
    /// An operation that moves no money (or a cancellation, retransmitted once) got no answer in time.
    case noResponse(operation: Operation, waited: Duration)
    /// The gateway's answer could not be read.
    case badResponse(String)
    /// The terminal's state directory (stan counter, pending reversals) cannot be used.
    case state(String)

    public enum Operation: String, Sendable {
        case purchase, balance, cancel, voucherCheck, voucherRedeem, online, totals, echo

        var french: String {
            switch self {
            case .purchase: return "Paiement"
            case .balance: return "Consultation du solde"
            case .cancel: return "Annulation"
            case .voucherCheck: return "Vérification du bon"
            case .voucherRedeem: return "Encaissement du bon"
            case .online: return "Liste des paiements en ligne"
            case .totals: return "Totaux"
            case .echo: return "Test de connexion"
            }
        }
    }

    public var code: String {
        switch self {
        case .usage(let code, _): return code
        case .reader(let error):
            switch error {
            case .serviceNotRunning: return "pcsc_unavailable"
            case .noReaders: return "no_reader"
            case .unknownReader: return "unknown_reader"
            case .noCard, .timedOut: return "no_card"
            case .cardRemoved, .cardReset: return "card_removed"
            case .cardUnresponsive, .protocolMismatch: return "card_unreadable"
            case .sharingViolation: return "reader_busy"
            case .readerUnavailable: return "reader_unavailable"
            case .cancelled: return "cancelled"
            case .contextReleased, .failure: return "pcsc_error"
            }
        case .card(let error):
            switch error {
            case .status(.fileNotFound): return "card_not_hdf"
            case .status(.atcExhausted): return "card_exhausted"
            default: return "card_error"
            }
        case .gatewayUnreachable: return "gateway_unreachable"
        case .declined(_, let code, _): return code
        case .noResponseReversed: return "no_response_reversed"
        case .noResponseReversalPending: return "no_response_reversal_pending"
        case .noResponse: return "no_response"
        case .badResponse: return "bad_response"
        case .state: return "terminal_state"
        }
    }

    public var description: String {
        switch self {
        case .usage(_, let text): return text
        case .reader(let error): return PosError.french(error)
        case .card(let error):
            switch error {
            case .status(.fileNotFound): return "Carte non reconnue : ce n'est pas une carte Génération #HDF"
            case .status(.atcExhausted): return "Carte épuisée (compteur au maximum) : elle doit être remplacée"
            case .status(let sw): return "Erreur de la carte (réponse \(Hex.encode(sw.bytes).uppercased())) : opération non effectuée"
            default: return "Réponse de la carte illisible (\(error)) : opération non effectuée"
            }
        case .gatewayUnreachable(let endpoint, let why):
            return "Serveur injoignable (\(endpoint)) : \(why)"
        case .declined(let operation, let code, let message):
            return "\(operation.french) \(operation.agree("refusé")) : \(message) (\(code))"
        case .noResponseReversed(let operation, let waited):
            return "Pas de réponse du serveur en \(PosError.seconds(waited)) : \(operation.french.lowercased()) \(operation.agree("annulé")), rien n'a été débité"
        case .noResponseReversalPending(let operation, let waited):
            return "Pas de réponse du serveur en \(PosError.seconds(waited)) : \(operation.french.lowercased()) non \(operation.agree("confirmé")), son annulation sera renvoyée à la prochaine opération"
        case .noResponse(let operation, let waited):
            return "Pas de réponse du serveur en \(PosError.seconds(waited)) : \(operation.french.lowercased()) impossible"
        case .badResponse(let why): return "Réponse du serveur illisible : \(why)"
        case .state(let why): return "État du terminal inutilisable : \(why)"
        }
    }

    static func french(_ error: PCSCError) -> String {
        switch error {
        case .serviceNotRunning:
            return "Lecteur de carte indisponible : le service PC/SC (pcscd) ne fonctionne pas"
        case .noReaders: return "Aucun lecteur de carte connecté"
        case .unknownReader(let name, let available):
            let list = available.isEmpty ? "aucun" : available.joined(separator: ", ")
            return "Lecteur « \(name) » introuvable (lecteurs : \(list))"
        case .noCard(let reader): return "Aucune carte dans le lecteur « \(reader) »"
        case .timedOut(let ms): return "Aucune carte présentée en \(PosError.seconds(.milliseconds(ms))) : opération abandonnée"
        case .cardRemoved: return "Carte retirée avant la fin : opération non effectuée"
        case .cardReset: return "Carte réinitialisée par une autre application : opération non effectuée"
        case .cardUnresponsive: return "Carte muette ou mal insérée : opération non effectuée"
        case .protocolMismatch: return "Carte illisible (protocole non pris en charge)"
        case .sharingViolation: return "Lecteur occupé par une autre application"
        case .readerUnavailable: return "Lecteur débranché pendant l'opération : opération non effectuée"
        case .cancelled: return "Attente de la carte interrompue"
        case .contextReleased, .failure: return "Erreur du lecteur de carte : \(error)"
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        let tenths = (ms + 50) / 100
        return "\(tenths / 10),\(tenths % 10) s"
    }
}

extension PosError.Operation {
    /// "paiement refusé", "annulation refusée", "totaux refusés": the participle agrees with the noun.
    func agree(_ participle: String) -> String {
        switch self {
        case .cancel, .balance, .voucherCheck, .online: return participle + "e"
        case .totals: return participle + "s"
        case .purchase, .voucherRedeem, .echo: return participle
        }
    }
}

/// The shop's wording for what the operator typed wrong.
public enum PosInput {
    public static func amount(_ text: String) throws(PosError) -> Int64 {
        do { return try Money.parseAmountCents(text) } catch {
            switch error {
            case .notPositive: throw .usage(code: "invalid_amount", "Montant invalide : un nombre de centimes supérieur à 0 est attendu")
            case .tooLarge: throw .usage(code: "invalid_amount", "Montant invalide : au-delà de \(Money.display(cents: Money.maximumAmountCents))")
            case .notAnInteger: throw .usage(code: "invalid_amount", "Montant invalide « \(text) » : un nombre entier de centimes est attendu (1250 pour 12,50 €)")
            }
        }
    }

    public static func wallet(_ text: String) throws(PosError) -> WalletCode {
        do { return try WalletCode(parsing: text) } catch {
            throw .usage(code: "unknown_wallet", "Porte-monnaie inconnu « \(text) » (\(WalletCode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    public static func pan(_ text: String) throws(PosError) -> PAN {
        do { return try PAN(validating: text) } catch {
            switch error {
            case .notSixteenDigits: throw .usage(code: "invalid_card_number", "Numéro de carte invalide : 16 chiffres attendus")
            case .luhnCheckFailed: throw .usage(code: "invalid_card_number", "Numéro de carte invalide \(PAN.mask(text)) : erreur de saisie (chiffre de contrôle)")
            }
        }
    }

    public static func voucher(_ text: String) throws(PosError) -> String {
        do { return try VoucherCode(parsing: text).canonical } catch {
            switch error {
            case .wrongLength: throw .usage(code: "invalid_voucher_code", "Code de bon invalide : \(VoucherCode.length) caractères attendus")
            case .badCharacter(let c): throw .usage(code: "invalid_voucher_code", "Code de bon invalide : « \(c) » n'existe pas dans un code")
            case .checkCharacterMismatch: throw .usage(code: "invalid_voucher_code", "Code de bon mal saisi : vérifiez-le")
            }
        }
    }
}
