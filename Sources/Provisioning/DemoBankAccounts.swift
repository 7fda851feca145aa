import HDFDomain
import Ledger

/// (issue 12) The demo's bank accounts: French IBANs (bank code, branch code, account number and the RIB
/// key, then the IBAN check digits) at real French banks' codes with invented account numbers.
enum DemoBankAccounts {
    /// The RIB key of a French BBAN: 97 − ((89 × bank + 15 × branch + 3 × account) mod 97), digits only.
    static func ribKey(bank: String, branch: String, account: String) -> String {
        let value = (89 * Int(bank)! + 15 * Int(branch)! + 3 * (Int(account)! % 97)) % 97
        let key = 97 - value
        return key < 10 ? "0\(key)" : String(key)
    }

    static func frenchIBAN(bank: String, branch: String, account: String) -> IBAN {
        let bban = bank + branch + account + ribKey(bank: bank, branch: branch, account: account)
        return try! IBAN.make(country: "FR", bban: bban)
    }

    /// Per demo partner: its IBAN and BIC.
    static let partners: [String: (iban: IBAN, bic: BIC)] = [
        "P001": (frenchIBAN(bank: "30004", branch: "00823", account: "00010234501"), try! BIC("BNPAFRPPXXX")),
        "P002": (frenchIBAN(bank: "30003", branch: "02910", account: "00050678902"), try! BIC("SOGEFRPP")),
        "P003": (frenchIBAN(bank: "20041", branch: "01005", account: "00123456703"), try! BIC("PSSTFRPPLIL")),
        "P004": (frenchIBAN(bank: "16706", branch: "05000", account: "52012345604"), try! BIC("AGRIFRPP867")),
        "P005": (frenchIBAN(bank: "10278", branch: "02600", account: "00020345605"), try! BIC("CMCIFR2A")),
    ]

    /// The Région's own account, the debtor of every reimbursement (a Trésor public account at the Banque de France).
    static let region = BankAccountRecord(name: "Région Hauts-de-France",
                                          iban: frenchIBAN(bank: "30001", branch: "00590", account: "00000712345"),
                                          bic: try! BIC("BDFEFRPPCCT"))
}
