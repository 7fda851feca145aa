/// Money is an integer number of euro cents, always (`Int64` named `...Cents`).
public enum Money {
    /// The largest amount a single operation may carry: 1,000,000.00 EUR. Anything above is a typo or an
    /// attack, and keeping amounts far from `Int64.max` means no sum of them can overflow.
    public static let maximumAmountCents: Int64 = 100_000_000

    public static let currencyEUR = "EUR"
    public static let currencyNumericEUR: UInt16 = 978

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case notPositive(Int64)
        case tooLarge(Int64)
        case notAnInteger(String)
        public var description: String {
            switch self {
            case .notPositive(let cents): return "amount must be a positive number of cents (got \(cents))"
            case .tooLarge(let cents): return "amount \(cents) cents is above the limit of \(Money.maximumAmountCents) cents"
            case .notAnInteger(let text): return "amount '\(text)' is not a whole number of cents"
            }
        }
    }

    public static func validate(amountCents: Int64) throws(Invalid) {
        guard amountCents > 0 else { throw .notPositive(amountCents) }
        guard amountCents <= maximumAmountCents else { throw .tooLarge(amountCents) }
    }

    /// Parses an operator's amount in cents; refuses signs, decimals and anything that would overflow.
    public static func parseAmountCents(_ text: String) throws(Invalid) -> Int64 {
        guard !text.hasPrefix("+"), let value = Int64(text) else { throw .notAnInteger(text) }
        try validate(amountCents: value)
        return value
    }

    /// "12,50 €": how a French display shows an amount.
    public static func display(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let euros = magnitude / 100
        let rest = magnitude % 100
        return "\(sign)\(euros),\(rest < 10 ? "0" : "")\(rest) €"
    }
}
