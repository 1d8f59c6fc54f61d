variable "server_id" {
  type = string
}

variable "phone_ids" {
  type = set(string)
}
