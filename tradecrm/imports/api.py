"""JSON API of imports: jobs (upload, mapping, dry run, run, progress, rejected rows, undo) and saved mappings."""

from ninja import Router

imports = Router(tags=["imports"])
import_mappings = Router(tags=["import mappings"])
