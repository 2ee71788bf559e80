"""The emulated CloudFormation: cloud assemblies (:mod:`.assembly`), the stack engine
(:mod:`.engine`), intrinsic functions (:mod:`.intrinsics`), stack model (:mod:`.model`), resource
provisioning (:mod:`.resources`), custom-resource ResponseURLs (:mod:`.responses`, :mod:`.tls`).
"""
