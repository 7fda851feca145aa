import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HDFDomain
import Ledger

/// A batch as one SEPA credit-transfer initiation, ISO 20022 `pain.001.001.03` (the version French banks
/// take for SEPA transfers), built with Foundation's XML tree writer: one payment information block, the
/// Région's account as debtor, one transaction per partner paid. Names go through the SEPA character set.
public enum SEPACreditTransfer {
    public static let namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
    /// `Max140Text`: the unstructured remittance information.
    public static let maximumRemittanceLength = 140

    public enum Failure: Error, CustomStringConvertible {
        case nothingToPay(String)
        public var description: String {
            switch self {
            case .nothingToPay(let id): return "batch \(id) pays no partner: there is no transfer to put in a file"
            }
        }
    }

    /// Cents as the file writes them: "1234.50" for 123450 (integer arithmetic only).
    public static func decimalAmount(cents: Int64) -> String {
        precondition(cents >= 0)
        let remainder = cents % 100
        return "\(cents / 100).\(remainder < 10 ? "0" : "")\(remainder)"
    }

    public static func xml(for batch: ReimbursementBatch) throws -> Data {
        let paid = batch.paidPartners
        guard !paid.isEmpty else { throw Failure.nothingToPay(batch.id) }
        let controlSum = decimalAmount(cents: paid.reduce(0) { $0 + $1.amountCents })
        func element(_ name: String, _ value: String? = nil, _ children: [XMLElement] = []) -> XMLElement {
            let node = value.map { XMLElement(name: name, stringValue: $0) } ?? XMLElement(name: name)
            for child in children { node.addChild(child) }
            return node
        }
        func name(_ text: String) -> XMLElement {
            element("Nm", SEPAText.transliterate(text, maximumLength: ReimbursementLimits.maximumNameLength))
        }
        func account(_ tag: String, _ iban: IBAN) -> XMLElement { element(tag, nil, [element("Id", nil, [element("IBAN", iban.electronic)])]) }
        func agent(_ tag: String, _ bic: BIC) -> XMLElement { element(tag, nil, [element("FinInstnId", nil, [element("BIC", bic.code)])]) }

        let header = element("GrpHdr", nil, [
            element("MsgId", batch.id),
            element("CreDtTm", creationTime(millis: batch.createdAtMillis)),
            element("NbOfTxs", String(paid.count)),
            element("CtrlSum", controlSum),
            element("InitgPty", nil, [name(batch.debtor.name)]),
        ])
        var information: [XMLElement] = [
            element("PmtInfId", "\(batch.id)-1"),
            element("PmtMtd", "TRF"),
            element("BtchBookg", "true"),
            element("NbOfTxs", String(paid.count)),
            element("CtrlSum", controlSum),
            element("PmtTpInf", nil, [element("SvcLvl", nil, [element("Cd", "SEPA")])]),
            element("ReqdExctnDt", batch.executionDate.iso),
            element("Dbtr", nil, [name(batch.debtor.name)]),
            account("DbtrAcct", batch.debtor.iban),
            agent("DbtrAgt", batch.debtor.bic),
            element("ChrgBr", "SLEV"),
        ]
        for partner in paid {
            guard let endToEnd = partner.endToEndID, let iban = partner.iban, let bic = partner.bic else {
                preconditionFailure("a partner paid has a transfer id and a bank account (schema CHECK)")
            }
            let amount = element("InstdAmt", decimalAmount(cents: partner.amountCents))
            amount.addAttribute(XMLNode.attribute(withName: "Ccy", stringValue: Money.currencyEUR) as! XMLNode)
            let remittance = SEPAText.transliterate(
                "Remboursement Generation HDF \(batch.id) operations jusqu'au \(batch.cutoff.iso) partenaire \(partner.partnerID)",
                maximumLength: maximumRemittanceLength)
            information.append(element("CdtTrfTxInf", nil, [
                element("PmtId", nil, [element("EndToEndId", endToEnd)]),
                element("Amt", nil, [amount]),
                agent("CdtrAgt", bic),
                element("Cdtr", nil, [name(partner.name)]),
                account("CdtrAcct", iban),
                element("RmtInf", nil, [element("Ustrd", remittance)]),
            ]))
        }
        let initiation = element("CstmrCdtTrfInitn", nil, [header, element("PmtInf", nil, information)])
        let root = element("Document", nil, [initiation])
        root.addNamespace(XMLNode.namespace(withName: "", stringValue: namespace) as! XMLNode)
        let document = XMLDocument(rootElement: root)
        document.version = "1.0"
        document.characterEncoding = "UTF-8"
        return document.xmlData(options: [.nodePrettyPrint])
    }

    /// `ISODateTime` in Paris local time with its offset, from the batch's stored creation time.
    static func creationTime(millis: Int64) -> String {
        String(ParisCalendar.isoTimestamp(millis: millis).prefix(25))
    }
}
