"""Reads an export bundle with independent readers, for tests/it/export.rs.

    read_bundle.py reqif FILE   validate FILE against the ReqIF 1.2 schema (the `reqif`
                                package's copy of the OMG XSD) and print what its parser
                                reads back: spec objects and relations, as JSON
    read_bundle.py xlsx DIR     print every sheet of DIR/matrices.xlsx (openpyxl) and every
                                CSV under DIR/matrices (the csv module), as JSON

Install with `pip install reqif==0.1.0` (it brings lxml, xmlschema and openpyxl).
"""

import csv
import glob
import json
import os
import sys


def read_reqif(path):
    import xmlschema
    from reqif import PATH_TO_REQIF_ROOT
    from reqif.parser import ReqIFParser

    schema = xmlschema.XMLSchema(os.path.join(PATH_TO_REQIF_ROOT, "reqif", "reqif_schema", "reqif.xsd"))
    errors = [str(e.reason) for e in schema.iter_errors(path)]
    bundle = ReqIFParser.parse(path)
    content = bundle.core_content.req_if_content
    definitions = {}
    for spec_type in content.spec_types or []:
        for attribute in getattr(spec_type, "attribute_definitions", None) or []:
            definitions[attribute.identifier] = attribute.long_name
    relation_types = {t.identifier: t.long_name for t in content.spec_types or []}
    objects = []
    for spec_object in content.spec_objects or []:
        values = {}
        for value in spec_object.attributes:
            values[definitions[value.definition_ref]] = value.value
        objects.append({"identifier": spec_object.identifier, "values": values})
    by_identifier = {o["identifier"]: o["values"]["ReqIF.ForeignID"] for o in objects}
    relations = []
    for relation in content.spec_relations or []:
        relations.append(
            {
                "from": by_identifier[relation.source],
                "type": relation_types[relation.relation_type_ref],
                "to": by_identifier[relation.target],
            }
        )
    hierarchy = 0
    for specification in content.specifications or []:
        stack = list(specification.children or [])
        while stack:
            node = stack.pop()
            hierarchy += 1
            stack.extend(node.children or [])
    return {
        "schema_errors": errors,
        "title": bundle.core_content and bundle.req_if_header.title,
        "objects": objects,
        "relations": relations,
        "hierarchy_nodes": hierarchy,
    }


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(folder):
    import openpyxl

    book = openpyxl.load_workbook(os.path.join(folder, "matrices.xlsx"), read_only=True)
    sheets = {}
    for sheet in book.worksheets:
        sheets[sheet.title] = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    csvs = {}
    for path in sorted(glob.glob(os.path.join(folder, "matrices", "*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            csvs["matrices/" + os.path.basename(path)] = [row for row in csv.reader(f)]
    return {"sheet_order": book.sheetnames, "sheets": sheets, "csv": csvs}


if __name__ == "__main__":
    kind, target = sys.argv[1], sys.argv[2]
    result = read_reqif(target) if kind == "reqif" else read_xlsx(target)
    json.dump(result, sys.stdout, ensure_ascii=False)
