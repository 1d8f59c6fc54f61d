variable "server_ids" {
  type = set(string)
}
