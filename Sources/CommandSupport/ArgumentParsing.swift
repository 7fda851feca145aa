import HDFDomain

/// How every CLI reads the domain's values from its arguments: a clear refusal naming what is wrong,
/// never a full card number in it.
public func parsePAN(_ text: String) throws -> PAN {
    do { return try PAN(validating: text) } catch {
        throw CommandOutput.Refusal(code: "invalid_card_number", "invalid card number \(PAN.mask(text)): \(error.description)")
    }
}

public func parseWallet(_ text: String) throws -> WalletCode {
    do { return try WalletCode(parsing: text) } catch { throw CommandOutput.Refusal(code: "unknown_wallet", error.description) }
}

public func parseAmount(_ text: String) throws -> Int64 {
    do { return try Money.parseAmountCents(text) } catch { throw CommandOutput.Refusal(code: "invalid_amount", error.description) }
}

public func parseVoucher(_ text: String) throws -> VoucherCode {
    do { return try VoucherCode(parsing: text) } catch { throw CommandOutput.Refusal(code: "invalid_voucher_code", error.description) }
}
