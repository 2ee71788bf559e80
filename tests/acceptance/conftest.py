"""The acceptance suite's and its machinery's tests share the ``osp_acceptance`` package."""
