//! Where Terraform meets CPH: the provider block, the resources and the data
//! sources, each in its own file, written against `plugin` and `cph`.
