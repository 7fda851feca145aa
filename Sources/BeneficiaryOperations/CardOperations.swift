import Foundation
import HDFDomain
import Ledger
import Receipt

/// What a beneficiary can do with their card on the ledger: the one place where these rules live, called
/// by the `beneficiary` verbs (contract §5) and by the web space's pages (contract §8).
///
/// Every operation is one short ledger transaction (a refusal rolls it back whole). Ownership is checked
/// here too: an operation on a voucher or a payment names the card it must belong to.
public struct CardOperations {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// How many vouchers "Mes prépaiements imprimables" lists, newest first.
    public static let maximumListedVouchers = 200

    public struct WalletLine: Sendable, Equatable {
        public let code: WalletCode
        public let label: String
        public let balanceCents: Int64
        public let expiresOn: LocalDate
        public let isExpired: Bool
    }

    public func wallets(pan: PAN) throws -> [WalletLine] {
        try ledger.read { tx in
            try tx.wallets(cardID: try tx.card(pan: pan).id).map {
                WalletLine(code: $0.code, label: $0.code.label, balanceCents: $0.availableCents, expiresOn: $0.expiresOn,
                           isExpired: $0.isExpired(on: tx.today))
            }
        }
    }

    public func prepay(pan: PAN, partnerID: String, wallet: WalletCode, amountCents: Int64) throws -> VoucherRecord {
        try ledger.write { try $0.prepay(pan: pan, partnerID: partnerID, wallet: wallet, amountCents: amountCents) }
    }

    public func cancelPrepayment(pan: PAN, code: VoucherCode) throws -> VoucherRecord {
        // Looking the voucher up releases it if its validity has passed, in a commit of its own: refused as
        // expired, its money is then back in its wallet as the message says (a refusal rolls its write back).
        _ = try? ledger.write { try $0.voucher(code: code) }
        return try ledger.write { try $0.cancelPrepayment(pan: pan, code: code) }
    }

    public struct VoucherLine: Sendable, Equatable {
        public let voucher: VoucherRecord
        public let partnerName: String
    }

    /// The card's vouchers, newest first (a write: looking vouchers up releases those past their expiry).
    public func vouchers(pan: PAN) throws -> [VoucherLine] {
        try ledger.write { tx in
            let card = try tx.card(pan: pan)
            let codes = try tx.ledger.connection.rows(
                "SELECT code FROM vouchers WHERE card_id = ? ORDER BY created_at_ms DESC LIMIT ?",
                card.id, Self.maximumListedVouchers) { $0.text(0) }
            return try codes.compactMap { text -> VoucherLine? in
                guard let code = try? VoucherCode(parsing: text) else { return nil }
                let record = try tx.voucher(code: code)
                return VoucherLine(voucher: record, partnerName: try tx.partner(id: record.partnerID).name)
            }
        }
    }

    /// One voucher of this card, or `unknownVoucher` (also for another card's: nobody learns it exists).
    public func voucher(pan: PAN, code: VoucherCode) throws -> VoucherLine {
        try ledger.write { tx in
            let card = try tx.card(pan: pan)
            let record = try tx.voucher(code: code)
            guard record.cardID == card.id else { throw LedgerError.unknownVoucher }
            return VoucherLine(voucher: record, partnerName: try tx.partner(id: record.partnerID).name)
        }
    }

    /// The printable receipt of a voucher. With `ownedBy`, a voucher of another card is `unknownVoucher`
    /// (the web space answers 404: nobody learns that another's voucher exists).
    public func receipt(code: VoucherCode, ownedBy pan: PAN? = nil) throws -> VoucherReceipt {
        // A write: looking a voucher up is what releases one past its expiry (it then reads `expired`).
        try ledger.write { tx -> VoucherReceipt in
            let record = try tx.voucher(code: code)
            let card = try tx.card(id: record.cardID)
            if let pan, card.pan != pan { throw LedgerError.unknownVoucher }
            let beneficiary = try tx.beneficiary(id: card.beneficiaryID)
            let partner = try tx.partner(id: record.partnerID)
            return VoucherReceipt(
                code: record.code, amountCents: record.amountCents, wallet: record.wallet, expiresOn: record.expiresOn,
                issuedOn: ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(record.createdAtMillis) / 1000)),
                status: VoucherReceipt.Status(rawValue: record.status.rawValue) ?? .issued,
                beneficiary: .init(firstName: beneficiary.firstName, lastName: beneficiary.lastName, dossier: beneficiary.dossier),
                partner: .init(name: partner.name, address: partner.address, city: partner.city),
                card: card.pan)
        }
    }

    public func payOnline(pan: PAN, partnerID: String, wallet: WalletCode, amountCents: Int64) throws -> PaymentRecord {
        try ledger.write { try $0.payOnline(pan: pan, partnerID: partnerID, wallet: wallet, amountCents: amountCents) }
    }

    /// A payment of this card, or `unknownPayment` (also for another card's: nobody learns it exists).
    public func payment(pan: PAN, txn: String) throws -> (payment: PaymentRecord, partnerName: String) {
        try ledger.read { tx in
            let card = try tx.card(pan: pan)
            guard let payment = try? tx.payment(txn: txn), payment.cardID == card.id else { throw LedgerError.unknownPayment(txn) }
            return (payment, try tx.partner(id: payment.partnerID).name)
        }
    }

    /// Always refused (contract §5): only the partner that received an online payment can cancel it.
    /// Says who can when the txn is an online payment of this card; `unknownPayment` for anything else.
    public func refuseOnlineCancellation(pan: PAN, txn: String) throws -> Never {
        let found = try payment(pan: pan, txn: txn)
        guard found.payment.kind == .online else { throw LedgerError.unknownPayment(txn) }
        throw BeneficiaryRefusal.cancelByPartnerOnly(partnerName: found.partnerName)
    }

    /// Blocks the card for card-present payments at once.
    public func declareProblem(pan: PAN, reason: BlockReason) throws {
        try ledger.write { try $0.setCardStatus(pan: pan, status: reason.cardStatus, actor: "beneficiary") }
    }

    public func cardStatus(pan: PAN) throws -> CardStatus {
        try ledger.read { try $0.card(pan: pan).status }
    }

    public func transactions(pan: PAN) throws -> [HistoryEntry] {
        try ledger.read { tx in try tx.history(cardID: try tx.card(pan: pan).id) }
    }

    public func partners(name: String? = nil, city: String? = nil, category: String? = nil) throws -> [PartnerRecord] {
        try ledger.read { try $0.searchPartners(name: name, city: city, category: category) }
    }

    public func partner(id: String) throws -> PartnerRecord {
        try ledger.read { try $0.partner(id: id) }
    }
}

/// Refusals that are the beneficiary side's own (the ledger's are `LedgerError`).
public enum BeneficiaryRefusal: Error, Equatable, CustomStringConvertible {
    case cancelByPartnerOnly(partnerName: String)

    public var code: String {
        switch self {
        case .cancelByPartnerOnly: return "cancel_by_partner_only"
        }
    }

    public var description: String {
        switch self {
        case .cancelByPartnerOnly(let partnerName):
            return "an online payment can only be cancelled by the partner that received it (\(partnerName))"
        }
    }
}
