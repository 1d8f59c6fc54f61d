variable "availability_zone" {
  description = "Availability zone of the new server."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the new server."
  type        = string
}

variable "subnet_id" {
  description = "Subnet of the new server."
  type        = string
}

variable "image_id" {
  description = "Cloud phone image."
  type        = string
}

variable "keypair_name" {
  description = "Key pair for ADB access to the phones."
  type        = string
}

variable "eip_id" {
  description = "An existing elastic IP for the server."
  type        = string
}
