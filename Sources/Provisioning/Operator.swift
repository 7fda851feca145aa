import CardApplication
import Foundation
import HDFDomain
import Ledger
import PartnerPKI

/// The operator's verbs over an environment directory. Each is one ledger transaction; a terminal's
/// certificate and key are written only after its enrollment commits... and the enrollment only
/// happens if they can be written (the files go to temporary names first).
public struct Operator {
    public let layout: EnvironmentLayout
    public let ledger: Ledger

    public init(directory: String) throws {
        layout = EnvironmentLayout(directory: directory)
        ledger = try Ledger.open(directory: layout.directory, actor: "operator")
    }

    public func addPartner(_ partner: PartnerRecord) throws -> PartnerOutput {
        try ledger.write { try $0.addPartner(partner) }
        return PartnerOutput(try ledger.read { try $0.partner(id: partner.id) })
    }

    /// Issues the terminal's certificate from the partner CA, then enrolls it with its fingerprint.
    public func enrollTerminal(id: String, partnerID: String) throws -> TerminalOutput {
        let certPath = EnvironmentLayout.terminalCertificateFile(id)
        let keyPath = EnvironmentLayout.terminalKeyFile(id)
        // Refuse before issuing anything (the ledger checks again under its lock).
        try ledger.read { tx in
            _ = try tx.partner(id: partnerID)
            if (try? tx.terminal(id: id)) != nil { throw LedgerError.duplicate("terminal '\(id)'") }
        }
        guard !FileManager.default.fileExists(atPath: layout.path(certPath)),
              !FileManager.default.fileExists(atPath: layout.path(keyPath)) else {
            throw LedgerError.duplicate("a certificate file for terminal '\(id)'")
        }
        let ca = try PKIFiles.loadCA(layout: layout)
        let issued = try PKIFiles.issueTerminal(ca: ca, terminalID: id, partnerID: partnerID, layout: layout)
        do {
            try ledger.write { try $0.enrollTerminal(id: id, partnerID: partnerID, certificateSHA256: issued.fingerprint) }
        } catch {
            // Nothing half-done: the files of a refused enrollment go away.
            try? FileManager.default.removeItem(atPath: layout.path(certPath))
            try? FileManager.default.removeItem(atPath: layout.path(keyPath))
            throw error
        }
        return TerminalOutput(id: id, partner: partnerID, status: "active", cert: certPath, key: keyPath)
    }

    public func revokeTerminal(id: String) throws -> TerminalOutput {
        try ledger.write { try $0.revokeTerminal(id: id) }
        let terminal = try ledger.read { try $0.terminal(id: id) }
        return TerminalOutput(id: id, partner: terminal.partnerID, status: terminal.status.rawValue, cert: nil, key: nil)
    }

    public func listTerminals() throws -> [TerminalOutput] {
        try ledger.read { try $0.terminals() }.map {
            TerminalOutput(id: $0.id, partner: $0.partnerID, status: $0.status.rawValue, cert: nil, key: nil)
        }
    }

    public func issueCard(beneficiary: BeneficiaryRecord) throws -> CardOutput {
        let masterKey = try IssuerMasterKey.load(layout: layout)
        let card = try ledger.write { try $0.issueCard(beneficiary: beneficiary) }
        return CardOutput(pan: card.pan.digits, key: Hex.encode(masterKey.cardKey(for: card.pan)), status: card.status.rawValue)
    }

    public func setCardStatus(pan: PAN, status: CardStatus) throws -> CardOutput {
        try ledger.write { try $0.setCardStatus(pan: pan, status: status) }
        return CardOutput(pan: pan.masked, key: nil, status: status.rawValue)
    }

    public func loadWallet(pan: PAN, code: WalletCode, amountCents: Int64, validMonths: Int?) throws -> WalletOutput {
        WalletOutput(try ledger.write { try $0.loadWallet(pan: pan, code: code, amountCents: amountCents, validMonths: validMonths) })
    }

    public func check() throws -> [InvariantViolation] {
        // Its sorts and groupings over every payment and transfer go to temporary files, not memory: on a
        // 10-million-payment ledger the check held 957 MiB with the ledger's `temp_store=MEMORY` (docs/bench.md).
        // This connection is the operator's own and lives for this one command.
        try ledger.connection.execute("PRAGMA temp_store=FILE")
        return try ledger.read { try $0.checkInvariants() }
    }
}
