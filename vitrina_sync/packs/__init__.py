"""Upload packs: approved rows -> marketplace rules -> rendered, re-validated files -> zip + manifest.

Shared by the marketplace plugins (plugins/kaspi, plugins/wildberries, plugins/ozon); each plugin
contributes a packs.base.Marketplace with its rules file, names, manifests and uploader.
"""
