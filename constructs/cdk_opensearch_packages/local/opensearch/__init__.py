"""The emulated OpenSearch Service packages API: HTTP front (:mod:`.api`), botocore's model
(:mod:`.model`), packages and associations (:mod:`.state`), error catalogue (:mod:`.errors`),
status timelines (:mod:`.timeline`), S3 reads (:mod:`.source`) and content validation
(:mod:`.content`).
"""
