import HDFDomain

/// Why the ledger refused an operation. Each says what failed and for whom; `responseCode` is what a
/// terminal is told. Nothing is changed when one is thrown.
public enum LedgerError: Error, Equatable, CustomStringConvertible {
    case unknownCard(masked: String)
    case unknownPartner(String)
    case unknownTerminal(String)
    case unknownWallet(card: String, wallet: WalletCode)
    case unknownVoucher
    case unknownPayment(String)
    case cardBlocked(masked: String, status: CardStatus)
    case insufficientFunds(wallet: WalletCode, availableCents: Int64, requestedCents: Int64)
    case walletExpired(wallet: WalletCode, expiredOn: LocalDate)
    case walletNotUsableHere(wallet: WalletCode, partner: String)
    case noWalletUsableHere(partner: String)
    case partnerRefuses(partner: String, what: String)
    case voucherAlreadyRedeemed
    case voucherCancelled
    case voucherExpired(on: LocalDate)
    case voucherOfAnotherPartner
    case voucherOfAnotherCard
    case paymentOfAnotherPartner(String)
    case alreadyCancelled(String)
    case notCancellable(String)
    case duplicate(String)
    case invalid(String)
    case busy(String)
    case storage(String)

    public var responseCode: ResponseCode {
        switch self {
        case .unknownCard: return .unknownCard
        case .unknownPartner, .unknownTerminal, .unknownWallet: return .invalidTransaction
        case .unknownVoucher, .unknownPayment: return .recordNotFound
        case .cardBlocked(_, let status):
            switch status {
            case .lost: return .lostCard
            case .stolen: return .stolenCard
            case .damaged, .active: return .restrictedCard
            }
        case .insufficientFunds: return .insufficientFunds
        case .walletExpired, .voucherExpired: return .expired
        case .walletNotUsableHere, .noWalletUsableHere, .partnerRefuses: return .notPermittedHere
        case .voucherAlreadyRedeemed: return .voucherAlreadyRedeemed
        case .voucherCancelled: return .voucherCancelled
        case .voucherOfAnotherPartner, .voucherOfAnotherCard, .paymentOfAnotherPartner: return .notPermittedToTerminal
        case .alreadyCancelled: return .alreadyCancelled
        case .notCancellable: return .invalidTransaction
        case .duplicate: return .duplicateTransmission
        case .invalid: return .formatError
        case .busy, .storage: return .systemError
        }
    }

    /// A short machine-readable name for `--json` errors.
    public var code: String {
        switch self {
        case .unknownCard: return "unknown_card"
        case .unknownPartner: return "unknown_partner"
        case .unknownTerminal: return "unknown_terminal"
        case .unknownWallet: return "unknown_wallet"
        case .unknownVoucher: return "unknown_voucher"
        case .unknownPayment: return "unknown_payment"
        case .cardBlocked: return "card_blocked"
        case .insufficientFunds: return "insufficient_funds"
        case .walletExpired: return "wallet_expired"
        case .walletNotUsableHere, .noWalletUsableHere: return "wallet_not_usable_here"
        case .partnerRefuses: return "partner_refuses"
        case .voucherAlreadyRedeemed: return "voucher_redeemed"
        case .voucherCancelled: return "voucher_cancelled"
        case .voucherExpired: return "voucher_expired"
        case .voucherOfAnotherPartner: return "voucher_of_another_partner"
        case .voucherOfAnotherCard: return "voucher_of_another_card"
        case .paymentOfAnotherPartner: return "payment_of_another_partner"
        case .alreadyCancelled: return "already_cancelled"
        case .notCancellable: return "not_cancellable"
        case .duplicate: return "duplicate"
        case .invalid: return "invalid"
        case .busy: return "busy"
        case .storage: return "storage"
        }
    }

    public var description: String {
        switch self {
        case .unknownCard(let masked): return "unknown card \(masked)"
        case .unknownPartner(let id): return "unknown partner '\(id)'"
        case .unknownTerminal(let id): return "unknown terminal '\(id)'"
        case .unknownWallet(let card, let wallet): return "card \(card) has no \(wallet.rawValue) wallet"
        case .unknownVoucher: return "unknown voucher"
        case .unknownPayment(let txn): return "unknown transaction '\(txn)'"
        case .cardBlocked(let masked, let status): return "card \(masked) is blocked (\(status.rawValue))"
        case .insufficientFunds(let wallet, let available, let requested):
            return "insufficient funds in \(wallet.rawValue): \(available) cents available, \(requested) requested"
        case .walletExpired(let wallet, let day): return "the \(wallet.rawValue) wallet expired on \(day.iso)"
        case .walletNotUsableHere(let wallet, let partner): return "the \(wallet.rawValue) wallet is not usable at partner \(partner)"
        case .noWalletUsableHere(let partner): return "no wallet of this card is usable at partner \(partner)"
        case .partnerRefuses(let partner, let what): return "partner \(partner) does not accept \(what)"
        case .voucherAlreadyRedeemed: return "the voucher has already been redeemed by the partner"
        case .voucherCancelled: return "the voucher was cancelled by the beneficiary"
        case .voucherExpired(let day): return "the voucher expired on \(day.iso)"
        case .voucherOfAnotherPartner: return "the voucher was issued for another partner"
        case .voucherOfAnotherCard: return "the voucher belongs to another card"
        case .paymentOfAnotherPartner(let txn): return "transaction \(txn) was received by another partner"
        case .alreadyCancelled(let txn): return "transaction \(txn) is already cancelled"
        case .notCancellable(let why): return why
        case .duplicate(let what): return "\(what) already exists"
        case .invalid(let why): return why
        case .busy(let why): return why
        case .storage(let why): return why
        }
    }
}
